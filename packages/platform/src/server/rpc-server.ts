import { createServer, type Http2Server, type ServerHttp2Session } from "node:http2";
import type { AddressInfo } from "node:net";
import type { DescService } from "@bufbuild/protobuf";
import type { ConnectRouter, Interceptor, ServiceImpl } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { Health } from "@retail/contracts/grpc/health/v1/health_pb";
import { ServerReflection } from "@retail/contracts/grpc/reflection/v1/reflection_pb";
import type { Logger } from "../log/index.js";
import type { Metrics } from "../metrics/index.js";
import type { DomainErrorMapper } from "../rpc/error-mapping.js";
import { requirePeerToken, type ServiceKeyring } from "../rpc/peer-auth.js";
import { createServerInterceptor } from "../rpc/server-interceptor.js";
import { createHealthService, type HealthService } from "./health.js";
import { createReflectionService } from "./reflection.js";

/** One service to serve: its descriptor and its (possibly partial) implementation. */
export interface ServiceRegistration {
  readonly service: DescService;
  readonly impl: Partial<ServiceImpl<DescService>>;
}

/** Pairs a descriptor with an implementation of exactly that service. */
export function serve<Service extends DescService>(
  service: Service,
  impl: Partial<ServiceImpl<Service>>,
): ServiceRegistration {
  return { service, impl: impl as Partial<ServiceImpl<DescService>> };
}

export interface RpcServerOptions {
  readonly name: string;
  readonly port: number;
  readonly host?: string;
  readonly services: readonly ServiceRegistration[];
  readonly logger: Logger;
  readonly metrics?: Metrics;
  readonly mapDomainError?: DomainErrorMapper;
  /** Largest request message accepted (RESOURCE_EXHAUSTED beyond); 16 MiB unless told. */
  readonly readMaxBytes?: number;
  /** Largest deadline a caller may ask for; longer ones are refused. */
  readonly maxTimeoutMs?: number;
  /** Set: only peers with a token signed by one of these keys are answered (health excepted). */
  readonly peerKeys?: ServiceKeyring | undefined;
  /** Extra interceptors, run inside the platform's own. */
  readonly interceptors?: readonly Interceptor[];
}

export interface RpcServer {
  /** The bound port (useful with port 0). */
  readonly port: number;
  readonly health: HealthService;
  /** Calls being handled right now. */
  readonly inFlight: number;
  start(): Promise<void>;
  /**
   * Graceful stop: health turns NOT_SERVING, no new connections or streams are accepted (GOAWAY),
   * calls in progress run to completion; after graceMs what is left is cancelled.
   */
  stop(graceMs?: number): Promise<void>;
}

/**
 * A Connect server on HTTP/2 (cleartext) speaking the Connect, gRPC and gRPC-Web protocols, with the
 * standard health service and server reflection next to the domain services.
 */
export function createRpcServer(options: RpcServerOptions): RpcServer {
  const { logger } = options;
  const health = createHealthService(options.services.map((s) => s.service.typeName));
  const reflection = createReflectionService([...options.services.map((s) => s.service), Health]);
  const shutdown = new AbortController();
  const sessions = new Set<ServerHttp2Session>();
  let inFlight = 0;
  let server: Http2Server | undefined;
  let port = options.port;

  const handler = connectNodeAdapter({
    routes: (router: ConnectRouter) => {
      for (const { service, impl } of options.services) router.service(service, impl);
      router.service(Health, health.impl);
      router.service(ServerReflection, reflection);
    },
    interceptors: [
      createServerInterceptor({
        logger,
        ...(options.metrics ? { metrics: options.metrics } : {}),
        ...(options.mapDomainError ? { mapDomainError: options.mapDomainError } : {}),
      }),
      ...(options.peerKeys ? [requirePeerToken(options.peerKeys)] : []),
      ...(options.interceptors ?? []),
    ],
    maxTimeoutMs: options.maxTimeoutMs ?? 60_000,
    readMaxBytes: options.readMaxBytes ?? 16 * 2 ** 20,
    shutdownSignal: shutdown.signal,
  });

  return {
    get port() {
      return port;
    },
    health,
    get inFlight() {
      return inFlight;
    },

    async start() {
      const http2 = createServer((request, response) => {
        inFlight++;
        response.once("close", () => inFlight--);
        handler(request, response);
      });
      http2.on("session", (session) => {
        sessions.add(session);
        session.once("close", () => sessions.delete(session));
      });
      server = http2;
      await new Promise<void>((resolve, reject) => {
        http2.once("error", reject);
        http2.listen(options.port, options.host ?? "0.0.0.0", () => {
          http2.off("error", reject);
          resolve();
        });
      });
      port = (http2.address() as AddressInfo).port;
      logger.info(
        {
          port,
          services: options.services.map((s) => s.service.typeName),
          peerAuthentication: !!options.peerKeys,
        },
        `${options.name} listening`,
      );
      if (!options.peerKeys)
        logger.warn("MESH_SERVICE_KEYS is not set: any process that reaches this port may call it");
    },

    async stop(graceMs = 10_000) {
      if (!server) return;
      const http2 = server;
      server = undefined;
      health.shutdown();
      const closed = new Promise<void>((resolve) => http2.close(() => resolve()));
      for (const session of sessions) session.close();
      const timer = new Promise<"timeout">((resolve) =>
        setTimeout(() => resolve("timeout"), graceMs).unref(),
      );
      if ((await Promise.race([closed, timer])) === "timeout") {
        logger.warn({ inFlight }, "calls still running after the grace period; cancelling them");
        shutdown.abort();
        for (const session of sessions) session.destroy();
        await closed;
      }
      logger.info(`${options.name} stopped`);
    },
  };
}

import { createServer, type Http2Server, type ServerHttp2Session } from "node:http2";
import type { AddressInfo } from "node:net";
import type { DescService } from "@bufbuild/protobuf";
import type { ConnectRouter, Interceptor, ServiceImpl } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { Server as GrpcServer, ServerCredentials } from "@grpc/grpc-js";
import { Health } from "@retail/contracts/grpc/health/v1/health_pb";
import { ServerReflection } from "@retail/contracts/grpc/reflection/v1/reflection_pb";
import type { Logger } from "../log/index.js";
import type { Metrics } from "../metrics/index.js";
import type { DomainErrorMapper } from "../rpc/error-mapping.js";
import type { ServiceKeyring } from "../rpc/peer-auth.js";
import { createServerEdge, edgeInterceptor } from "../rpc/server-interceptor.js";
import { grpcService } from "./grpc-service.js";
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
  /** Set: the Connect and gRPC-Web protocols are served on this port too (0: any free port). */
  readonly webPort?: number | undefined;
}

export interface RpcServer {
  /** The bound port (useful with port 0). */
  readonly port: number;
  /** The bound Connect and gRPC-Web port, when one was asked for. */
  readonly webPort: number | undefined;
  readonly health: HealthService;
  /** Calls being handled right now. */
  readonly inFlight: number;
  start(): Promise<void>;
  /**
   * Graceful stop: health turns NOT_SERVING, no new connections or calls are accepted (GOAWAY),
   * calls in progress run to completion; after graceMs what is left is cancelled.
   */
  stop(graceMs?: number): Promise<void>;
}

/**
 * The service's RPC server: gRPC over HTTP/2 (cleartext) carried by @grpc/grpc-js, which every service,
 * the gateway and probes call, with the standard health service and server reflection next to the
 * domain services. The handlers and interceptors are Connect's. When `webPort` is set, the same
 * services also answer the Connect and gRPC-Web protocols there (connect-node), for browsers and curl.
 */
export function createRpcServer(options: RpcServerOptions): RpcServer {
  const { logger } = options;
  const health = createHealthService(options.services.map((s) => s.service.typeName));
  const reflection = createReflectionService([...options.services.map((s) => s.service), Health]);
  const shutdown = new AbortController();
  const served: ServiceRegistration[] = [
    ...options.services,
    serve(Health, health.impl),
    serve(ServerReflection, reflection),
  ];
  const edgeOptions = {
    logger,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.mapDomainError ? { mapDomainError: options.mapDomainError } : {}),
    peerKeys: options.peerKeys,
  };
  // One edge for grpc-js and Connect's path: one cache of verified peer tokens, one of methods.
  const edge = createServerEdge(edgeOptions);
  const interceptors: Interceptor[] = [edgeInterceptor(edge), ...(options.interceptors ?? [])];
  const maxTimeoutMs = options.maxTimeoutMs ?? 60_000;
  const readMaxBytes = options.readMaxBytes ?? 16 * 2 ** 20;
  let inFlight = 0;
  let grpcServer: GrpcServer | undefined;
  let web: { server: Http2Server; sessions: Set<ServerHttp2Session> } | undefined;
  let port = options.port;
  let webPort = options.webPort;
  const host = options.host ?? "0.0.0.0";

  const startWeb = async (wanted: number) => {
    const handler = connectNodeAdapter({
      routes: (router: ConnectRouter) => {
        for (const { service, impl } of served) router.service(service, impl);
      },
      interceptors,
      maxTimeoutMs,
      readMaxBytes,
      shutdownSignal: shutdown.signal,
    });
    const sessions = new Set<ServerHttp2Session>();
    const http2 = createServer((request, response) => {
      inFlight++;
      response.once("close", () => inFlight--);
      handler(request, response);
    });
    http2.on("session", (session) => {
      sessions.add(session);
      session.once("close", () => sessions.delete(session));
    });
    await new Promise<void>((resolve, reject) => {
      http2.once("error", reject);
      http2.listen(wanted, host, () => {
        http2.off("error", reject);
        resolve();
      });
    });
    web = { server: http2, sessions };
    return (http2.address() as AddressInfo).port;
  };

  const stopWeb = async (graceMs: number) => {
    if (!web) return;
    const { server: http2, sessions } = web;
    web = undefined;
    const closed = new Promise<void>((resolve) => http2.close(() => resolve()));
    for (const session of sessions) session.close();
    if ((await Promise.race([closed, delay(graceMs)])) === "timeout") {
      for (const session of sessions) session.destroy();
      await closed;
    }
  };

  return {
    get port() {
      return port;
    },
    get webPort() {
      return webPort;
    },
    health,
    get inFlight() {
      return inFlight;
    },

    async start() {
      const server = new GrpcServer({
        "grpc.max_receive_message_length": readMaxBytes,
        "grpc.max_send_message_length": -1,
      });
      const serving = {
        edge,
        interceptors,
        connectPathOnly: (options.interceptors ?? []).length > 0,
        shutdownSignal: shutdown.signal,
        maxTimeoutMs,
        track: (delta: 1 | -1) => {
          inFlight += delta;
        },
      };
      for (const { service, impl } of served) {
        const { definition, implementation } = grpcService(service, impl, serving);
        server.addService(definition, implementation);
      }
      port = await new Promise<number>((resolve, reject) =>
        server.bindAsync(`${host}:${options.port}`, ServerCredentials.createInsecure(), (error, bound) =>
          error ? reject(error) : resolve(bound),
        ),
      );
      grpcServer = server;
      if (options.webPort !== undefined) webPort = await startWeb(options.webPort);
      logger.info(
        {
          port,
          ...(webPort === undefined ? {} : { webPort }),
          services: options.services.map((s) => s.service.typeName),
          peerAuthentication: !!options.peerKeys,
        },
        `${options.name} listening`,
      );
      if (!options.peerKeys)
        logger.warn("MESH_SERVICE_KEYS is not set: any process that reaches this port may call it");
    },

    async stop(graceMs = 10_000) {
      if (!grpcServer) return;
      const server = grpcServer;
      grpcServer = undefined;
      health.shutdown();
      // No new calls (GOAWAY to every connection); calls in progress run to their end.
      const drained = new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      const [outcome] = await Promise.all([Promise.race([drained, delay(graceMs)]), stopWeb(graceMs)]);
      if (outcome === "timeout") {
        logger.warn({ inFlight }, "calls still running after the grace period; cancelling them");
        shutdown.abort();
        server.forceShutdown();
      }
      logger.info(`${options.name} stopped`);
    },
  };
}

const delay = (ms: number) =>
  new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), ms).unref());

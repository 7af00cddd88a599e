// The services behind the gateway: one Connect transport each (deadlines, correlation and trace
// propagation, retries only for calls that carry a request id), a unary call by method descriptor, and
// each service's gRPC health for readiness.
import type { DescMethod, DescMethodUnary, DescService, Message } from "@bufbuild/protobuf";
import { type Client, createClient, type Transport } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus } from "@retail/contracts/grpc/health/v1/health_pb";
import { createServiceTransport, type ServiceKeyring } from "@retail/platform/rpc";

export interface Backend {
  readonly service: DescService;
  readonly baseUrl: string;
}

/** A service the gateway serves itself, in process (its journal): no health of its own to ask. */
export interface LocalBackend {
  readonly service: DescService;
  readonly transport: Transport;
}

export interface Backends {
  invoke(
    method: DescMethod,
    request: Message,
    options: { timeoutMs: number; signal: AbortSignal },
  ): Promise<Message>;
  /** Each service's serving status ("SERVING", "NOT_SERVING", "UNREACHABLE"). */
  health(timeoutMs: number): Promise<Record<string, string>>;
}

/** The gateway's transports to the services; with `peerKeys`, every call is signed as the gateway's. */
export function createBackends(
  backends: readonly Backend[],
  defaultTimeoutMs: number,
  peerKeys?: ServiceKeyring,
  local: readonly LocalBackend[] = [],
): Backends {
  const transports = new Map<
    string,
    { transport: Transport; backend: Backend; health: Client<typeof Health> }
  >();
  for (const backend of backends) {
    const transport = createServiceTransport({
      baseUrl: backend.baseUrl,
      timeoutMs: defaultTimeoutMs,
      peerAuth: { keys: peerKeys, service: "gateway" },
    });
    transports.set(backend.service.typeName, { transport, backend, health: createClient(Health, transport) });
  }
  const locals = new Map(local.map((l) => [l.service.typeName, l.transport]));
  return {
    async invoke(method, request, { timeoutMs, signal }) {
      const transport =
        transports.get(method.parent.typeName)?.transport ?? locals.get(method.parent.typeName);
      if (!transport) throw new Error(`no backend serves ${method.parent.typeName}`);
      if (method.methodKind !== "unary") throw new Error(`${method.name} is not unary`);
      // DescMethod does not narrow on methodKind; the check above makes the cast true.
      const response = await transport.unary(
        method as DescMethodUnary,
        signal,
        timeoutMs,
        undefined,
        request,
      );
      return response.message;
    },
    async health(timeoutMs) {
      const statuses = await Promise.all(
        [...transports.values()].map(async ({ backend, health }) => {
          const status = await health
            .check({ service: "" }, { timeoutMs })
            .then((r) => HealthCheckResponse_ServingStatus[r.status])
            .catch(() => "UNREACHABLE");
          return [backend.service.typeName, status] as const;
        }),
      );
      return Object.fromEntries(statuses);
    },
  };
}

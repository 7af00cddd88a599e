import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import {
  type Health,
  HealthCheckResponseSchema,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from "@retail/contracts/grpc/health/v1/health_pb";

export { ServingStatus };

/** The standard gRPC health service (grpc.health.v1), with a status per service and overall (""). */
export interface HealthService {
  readonly impl: ServiceImpl<typeof Health>;
  set(service: string, status: ServingStatus): void;
  /** Marks every service NOT_SERVING (the first step of a shutdown) and ends open Watch streams. */
  shutdown(): void;
}

export function createHealthService(services: readonly string[]): HealthService {
  const statuses = new Map<string, ServingStatus>([["", ServingStatus.SERVING]]);
  for (const name of services) statuses.set(name, ServingStatus.SERVING);
  const watchers = new Set<() => void>();
  const ended = new AbortController();
  const statusOf = (service: string) => {
    const status = statuses.get(service);
    if (status === undefined) throw new ConnectError(`unknown service ${service}`, Code.NotFound);
    return status;
  };
  const notify = () => {
    for (const wake of watchers) wake();
  };

  return {
    impl: {
      check(request) {
        return create(HealthCheckResponseSchema, { status: statusOf(request.service) });
      },
      async *watch(request, context) {
        let last: ServingStatus | undefined;
        // A watcher sees every change, the last one (NOT_SERVING at shutdown) before its stream ends.
        for (;;) {
          const status = statuses.get(request.service) ?? ServingStatus.SERVICE_UNKNOWN;
          if (status !== last) {
            last = status;
            yield create(HealthCheckResponseSchema, { status });
          }
          if (context.signal.aborted || ended.signal.aborted) return;
          await new Promise<void>((resolve) => {
            const done = () => {
              watchers.delete(done);
              context.signal.removeEventListener("abort", done);
              ended.signal.removeEventListener("abort", done);
              resolve();
            };
            watchers.add(done);
            context.signal.addEventListener("abort", done);
            ended.signal.addEventListener("abort", done);
          });
        }
      },
      list() {
        return {
          statuses: Object.fromEntries(
            [...statuses].map(([name, status]) => [name, create(HealthCheckResponseSchema, { status })]),
          ),
        };
      },
    },
    set(service, status) {
      statuses.set(service, status);
      notify();
    },
    shutdown() {
      for (const name of statuses.keys()) statuses.set(name, ServingStatus.NOT_SERVING);
      notify();
      ended.abort();
    },
  };
}

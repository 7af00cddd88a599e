import { Code, ConnectError } from "@connectrpc/connect";
import { ConcurrencyConflict, IdempotencyKeyReused } from "../store/errors.js";
import { errorWithInfo, invalidArgument, RequestInvalid } from "./errors.js";

/** A service's own table from domain errors to Connect errors (its `error-codes.ts`). */
export type DomainErrorMapper = (error: unknown) => ConnectError | undefined;

const unavailableErrorNames = new Set([
  "MongoServerSelectionError",
  "MongoNetworkError",
  "MongoNetworkTimeoutError",
  "MongoNotConnectedError",
  "MongoTopologyClosedError",
]);

/**
 * Maps anything a handler throws to what callers see: the service's domain errors through its own
 * mapper, then the platform's (invalid request, reused idempotency key, lasting version conflict,
 * unreachable database), else INTERNAL with a generic message (the cause is logged, never sent).
 */
export function toConnectError(error: unknown, mapDomainError?: DomainErrorMapper): ConnectError {
  if (error instanceof ConnectError) return error;
  const mapped = mapDomainError?.(error);
  if (mapped) return mapped;
  if (error instanceof RequestInvalid) return invalidArgument(error.violations);
  if (error instanceof IdempotencyKeyReused) {
    return errorWithInfo(Code.InvalidArgument, "IDEMPOTENCY_KEY_REUSED", error.message, {
      request_key: error.requestKey,
    });
  }
  if (error instanceof ConcurrencyConflict) {
    return new ConnectError("the resource was changed concurrently; retry the request", Code.Aborted);
  }
  if (error instanceof Error && unavailableErrorNames.has(error.name)) {
    return new ConnectError("a dependency is unavailable; retry later", Code.Unavailable);
  }
  return new ConnectError("internal error", Code.Internal);
}

import { Code, createContextKey, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "../log/index.js";
import type { Metrics } from "../metrics/index.js";
import {
  type CallContext,
  callContextFrom,
  callerHeader,
  correlationHeader,
  formatTraceparent,
  runWithCallContext,
  traceparentHeader,
} from "./context.js";
import { type DomainErrorMapper, toConnectError } from "./error-mapping.js";
import { RequestInvalid } from "./errors.js";
import { nulViolations } from "./text-rules.js";

/** The call context of a request, for handlers that read it from HandlerContext.values. */
export const kCallContext = createContextKey<CallContext | undefined>(undefined, {
  description: "call context",
});

const clientCodes = new Set([
  Code.InvalidArgument,
  Code.NotFound,
  Code.AlreadyExists,
  Code.FailedPrecondition,
  Code.OutOfRange,
  Code.Aborted,
  Code.Unauthenticated,
  Code.PermissionDenied,
  Code.Canceled,
  Code.ResourceExhausted,
]);

/**
 * The server's edge: takes or creates the correlation id and a child of the caller's trace, runs the
 * handler inside that call context, maps what it throws (domain errors -> codes and error details),
 * and writes one log line and the RED metrics per call.
 */
export function createServerInterceptor(options: {
  logger: Logger;
  metrics?: Metrics;
  mapDomainError?: DomainErrorMapper;
}): Interceptor {
  const { logger, metrics, mapDomainError } = options;
  return (next) => async (request) => {
    const context = callContextFrom(
      request.header.get(correlationHeader),
      request.header.get(traceparentHeader),
      request.header.get(callerHeader),
    );
    request.contextValues.set(kCallContext, context);
    const method = `${request.service.typeName}/${request.method.name}`;
    const started = performance.now();
    const finish = (code: string, error?: unknown) => {
      const seconds = (performance.now() - started) / 1000;
      metrics?.rpcRequests.inc({ method, code });
      metrics?.rpcDuration.observe({ method }, seconds);
      const line = { method, code, ms: Math.round(seconds * 1000), correlationId: context.correlationId };
      if (code === "ok") logger.info(line, "rpc");
      else if (error) logger.error({ ...line, err: error }, "rpc failed");
      else logger.warn(line, "rpc refused");
    };
    return runWithCallContext(context, async () => {
      try {
        if (!request.stream) {
          const violations = nulViolations(request.method.input, request.message);
          if (violations.length > 0) throw new RequestInvalid(violations);
        }
        const response = await next(request);
        response.header.set(correlationHeader, context.correlationId);
        response.header.set(traceparentHeader, formatTraceparent(context.trace));
        finish("ok");
        return response;
      } catch (error) {
        const mapped = toConnectError(error, mapDomainError);
        mapped.metadata.set(correlationHeader, context.correlationId);
        const codeName = Code[mapped.code] ?? String(mapped.code);
        // Refusals are the caller's business; anything else is ours and its cause goes to the log.
        finish(codeName, clientCodes.has(mapped.code) || error === mapped ? undefined : error);
        throw mapped;
      }
    });
  };
}

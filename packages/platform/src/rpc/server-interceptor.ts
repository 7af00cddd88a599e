import type { DescMethod, Message } from "@bufbuild/protobuf";
import { Code, createContextKey, type Interceptor } from "@connectrpc/connect";
import type { Counter, Histogram } from "prom-client";
import type { Logger } from "../log/index.js";
import type { Metrics } from "../metrics/index.js";
import { SpanKind, startSpan } from "../telemetry/index.js";
import {
  type CallContext,
  callContextFrom,
  callerHeader,
  correlationHeader,
  formatTraceparent,
  parseTraceparent,
  runWithCallContext,
  traceparentHeader,
} from "./context.js";
import { type DomainErrorMapper, toConnectError } from "./error-mapping.js";
import { RequestInvalid } from "./errors.js";
import { peerTokenCheck, type ServiceKeyring } from "./peer-auth.js";
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

export interface ServerEdgeOptions {
  logger: Logger;
  metrics?: Metrics;
  mapDomainError?: DomainErrorMapper;
  /** Set: only peers with a token signed by one of these keys are answered (health excepted). */
  peerKeys?: ServiceKeyring | undefined;
}

/** A call as the edge sees it, whatever carries it (grpc-js, or Connect on the web port). */
export interface EdgeCall {
  readonly method: DescMethod;
  header(name: string): string | null | undefined;
  /** The request message of a unary call; undefined for a stream. */
  readonly message: unknown;
}

/**
 * Runs one call: the call context from its headers, and inside it the request's text rules, the peer
 * check and `run`; what it throws comes back as a ConnectError (domain errors -> codes and error
 * details) carrying the correlation id. One log line and the RED metrics per call.
 */
export type ServerEdge = <T>(
  call: EdgeCall,
  run: (context: CallContext) => Promise<T>,
) => Promise<{ context: CallContext; value: T }>;

export function createServerEdge(options: ServerEdgeOptions): ServerEdge {
  const { logger, metrics, mapDomainError } = options;
  const checkPeer = options.peerKeys ? peerTokenCheck(options.peerKeys) : undefined;
  // Per method, once: its name and its metrics' labelled children (a label lookup per call costs).
  const methods = new WeakMap<
    DescMethod,
    { name: string; ok?: Counter.Internal; duration?: Histogram.Internal<"method"> }
  >();
  const methodOf = (method: DescMethod) => {
    let known = methods.get(method);
    if (known === undefined) {
      const name = `${method.parent.typeName}/${method.name}`;
      known = {
        name,
        ...(metrics && {
          ok: metrics.rpcRequests.labels({ method: name, code: "ok" }),
          duration: metrics.rpcDuration.labels({ method: name }),
        }),
      };
      methods.set(method, known);
    }
    return known;
  };
  return (call, run) => {
    const known = methodOf(call.method);
    const method = known.name;
    const span = startSpan(method, SpanKind.SERVER, parseTraceparent(call.header(traceparentHeader)), {
      "rpc.system": "grpc",
      "rpc.service": call.method.parent.typeName,
      "rpc.method": call.method.name,
    });
    const context = callContextFrom(call.header(correlationHeader), span.trace, call.header(callerHeader));
    const started = performance.now();
    const finish = (code: string, error?: unknown) => {
      // A refusal is the caller's outcome, not a failure of this span (as OpenTelemetry's gRPC server rule).
      span.end(error, { attributes: { "rpc.grpc.status_code": code } });
      const seconds = (performance.now() - started) / 1000;
      if (code === "ok") known.ok?.inc();
      else metrics?.rpcRequests.inc({ method, code });
      known.duration?.observe(seconds);
      const line = { method, code, ms: Math.round(seconds * 1000), correlationId: context.correlationId };
      if (code === "ok") logger.info(line, "rpc");
      else if (error) logger.error({ ...line, err: error }, "rpc failed");
      else logger.warn(line, "rpc refused");
    };
    return runWithCallContext(context, async () => {
      try {
        if (call.message !== undefined) {
          const violations = nulViolations(call.method.input, call.message as Message);
          if (violations.length > 0) throw new RequestInvalid(violations);
        }
        await checkPeer?.(call.method.parent.typeName, call.header("authorization"));
        const value = await run(context);
        finish("ok");
        return { context, value };
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

/**
 * The server's edge (createServerEdge) as a Connect interceptor, for Connect's own handlers (the web
 * port, streams, handler tests): the call context is also in HandlerContext.values (kCallContext), and
 * the correlation id and trace go back as response headers.
 */
export function createServerInterceptor(options: ServerEdgeOptions): Interceptor {
  return edgeInterceptor(createServerEdge(options));
}

/** An edge already made, as a Connect interceptor (see createServerInterceptor). */
export function edgeInterceptor(edge: ServerEdge): Interceptor {
  return (next) => async (request) => {
    const { context, value: response } = await edge(
      {
        method: request.method,
        header: (name) => request.header.get(name),
        message: request.stream ? undefined : request.message,
      },
      (context) => {
        request.contextValues.set(kCallContext, context);
        return next(request);
      },
    );
    response.header.set(correlationHeader, context.correlationId);
    response.header.set(traceparentHeader, formatTraceparent(context.trace));
    return response;
  };
}

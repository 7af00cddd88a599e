import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import {
  type Client,
  Code,
  ConnectError,
  createClient,
  type Interceptor,
  type Transport,
} from "@connectrpc/connect";
import { SpanKind, startSpan } from "../telemetry/index.js";
import {
  callerHeader,
  correlationHeader,
  currentCallContext,
  formatTraceparent,
  traceparentHeader,
} from "./context.js";
import { createGrpcJsTransport } from "./grpc-transport.js";
import { peerTokenSource, type ServiceKeyring } from "./peer-auth.js";

export interface ServiceClientOptions {
  /** "http://inventory:8080". */
  baseUrl: string;
  /** Deadline of every call unless the call sets its own. */
  timeoutMs?: number;
  /** Tries of an idempotent call that fails UNAVAILABLE (1 = no retry). */
  maxAttempts?: number;
  backoffMs?: number;
  /** The calling service's name, sent as the caller; unset: the current call context's caller. */
  caller?: string;
  /** Signs every call as `service` with the mesh's service keys (MESH_SERVICE_KEYS), when they are set. */
  peerAuth?: { keys: ServiceKeyring | undefined; service: string };
}

/**
 * What a call to another service carries of the current call context besides its trace (clientSpan):
 * the correlation id and the caller (the given service name, else the current context's caller).
 */
export function propagationHeaders(caller?: string): [string, string][] {
  const context = currentCallContext();
  const headers: [string, string][] = [];
  if (context) headers.push([correlationHeader, context.correlationId]);
  const who = caller ?? context?.caller;
  if (who) headers.push([callerHeader, who]);
  return headers;
}

/**
 * Each try of a call is a client span of the current trace (a span id only, without telemetry), and
 * the callee's parent: its traceparent goes in the call's headers.
 */
const clientSpan: Interceptor = (next) => async (request) => {
  const span = startSpan(
    `${request.method.parent.typeName}/${request.method.name}`,
    SpanKind.CLIENT,
    currentCallContext()?.trace,
    {
      "rpc.system": "grpc",
      "rpc.service": request.method.parent.typeName,
      "rpc.method": request.method.name,
    },
  );
  request.header.set(traceparentHeader, formatTraceparent(span.trace));
  try {
    const response = await next(request);
    span.end(undefined, { attributes: { "rpc.grpc.status_code": "ok" } });
    return response;
  } catch (error) {
    const failure = ConnectError.from(error);
    span.end(failure, { attributes: { "rpc.grpc.status_code": Code[failure.code] ?? String(failure.code) } });
    throw error;
  }
};

/**
 * A call may be retried when repeating it cannot apply it twice: it declares no side effects or
 * idempotency in the proto, or it carries a request id (the callee answers a repeat with the first
 * result).
 */
export function isRetrySafe(method: DescMethod, message: unknown): boolean {
  if (method.idempotency !== MethodOptions_IdempotencyLevel.IDEMPOTENCY_UNKNOWN) return true;
  const requestId = (message as { requestId?: unknown }).requestId;
  return typeof requestId === "string" && requestId.length > 0;
}

function retryIdempotent(maxAttempts: number, backoffMs: number): Interceptor {
  return (next) => async (request) => {
    if (request.stream || !isRetrySafe(request.method, request.message)) return next(request);
    for (let attempt = 1; ; attempt++) {
      try {
        return await next(request);
      } catch (error) {
        const retryable = error instanceof ConnectError && error.code === Code.Unavailable;
        if (!retryable || attempt >= maxAttempts || request.signal.aborted) throw error;
        const delay = backoffMs * 2 ** (attempt - 1) * (0.5 + Math.random());
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  };
}

/**
 * A call whose stream the peer closed (it died or was stopped mid-call: HTTP/2 CANCEL, or a reset) is
 * UNAVAILABLE, not CANCELED: this caller cancelled nothing, and the call may be retried like any other
 * that could not reach its peer. Only the caller's own abort stays CANCELED.
 */
const peerGoneIsUnavailable: Interceptor = (next) => async (request) => {
  try {
    return await next(request);
  } catch (error) {
    const failure = ConnectError.from(error);
    if (failure.code !== Code.Canceled || request.signal.aborted) throw error;
    throw new ConnectError(
      `the peer closed the call: ${failure.rawMessage}`,
      Code.Unavailable,
      failure.metadata,
      undefined,
      failure,
    );
  }
};

/**
 * The transport to another service of the mesh (gRPC, carried by @grpc/grpc-js), with deadlines, context
 * propagation, the peer token and safe retries.
 */
export function createServiceTransport(options: ServiceClientOptions): Transport {
  const token = options.peerAuth?.keys
    ? peerTokenSource(options.peerAuth.keys, options.peerAuth.service)
    : undefined;
  const callHeaders = (): [string, string][] | Promise<[string, string][]> => {
    const headers = propagationHeaders(options.caller);
    const authorization = token?.();
    if (authorization === undefined) return headers;
    if (typeof authorization === "string") return [...headers, ["authorization", authorization]];
    return authorization.then((value) => [...headers, ["authorization", value]]);
  };
  return createGrpcJsTransport({
    baseUrl: options.baseUrl,
    defaultTimeoutMs: options.timeoutMs ?? 5_000,
    callHeaders,
    interceptors: [
      retryIdempotent(options.maxAttempts ?? 3, options.backoffMs ?? 100),
      clientSpan,
      peerGoneIsUnavailable,
    ],
  });
}

/** A typed client of another service of the mesh, with deadlines, context propagation and safe retries. */
export function createServiceClient<Service extends DescService>(
  service: Service,
  options: ServiceClientOptions,
): Client<Service> {
  return createClient(service, createServiceTransport(options));
}

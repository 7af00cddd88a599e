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
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import {
  callerHeader,
  childTrace,
  correlationHeader,
  currentCallContext,
  formatTraceparent,
  traceparentHeader,
} from "./context.js";
import { type ServiceKeyring, signPeerCalls } from "./peer-auth.js";

export interface ServiceClientOptions {
  /** "http://inventory:8080". */
  baseUrl: string;
  /** Connect (default) or plain gRPC, both over HTTP/2. */
  protocol?: "connect" | "grpc";
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
 * Carries the current correlation id, a child span of the current trace and the caller to the callee.
 * The caller is the given service name, else the current call context's caller.
 */
export function callContextPropagation(caller?: string): Interceptor {
  return (next) => async (request) => {
    const context = currentCallContext();
    if (context && !request.header.has(correlationHeader))
      request.header.set(correlationHeader, context.correlationId);
    if (!request.header.has(traceparentHeader)) {
      request.header.set(traceparentHeader, formatTraceparent(childTrace(context?.trace)));
    }
    const who = caller ?? context?.caller;
    if (who && !request.header.has(callerHeader)) request.header.set(callerHeader, who);
    return next(request);
  };
}

/** Propagation for a caller that names no service of its own (the gateway, tests). */
export const propagateCallContext: Interceptor = callContextPropagation();

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

/** The transport to another service of the mesh, with deadlines, context propagation and safe retries. */
export function createServiceTransport(options: ServiceClientOptions): Transport {
  const transportOptions = {
    baseUrl: options.baseUrl,
    httpVersion: "2" as const,
    defaultTimeoutMs: options.timeoutMs ?? 5_000,
    interceptors: [
      callContextPropagation(options.caller),
      ...(options.peerAuth?.keys ? [signPeerCalls(options.peerAuth.keys, options.peerAuth.service)] : []),
      retryIdempotent(options.maxAttempts ?? 3, options.backoffMs ?? 100),
      peerGoneIsUnavailable,
    ],
  };
  return options.protocol === "grpc"
    ? createGrpcTransport(transportOptions)
    : createConnectTransport(transportOptions);
}

/** A typed client of another service of the mesh, with deadlines, context propagation and safe retries. */
export function createServiceClient<Service extends DescService>(
  service: Service,
  options: ServiceClientOptions,
): Client<Service> {
  return createClient(service, createServiceTransport(options));
}

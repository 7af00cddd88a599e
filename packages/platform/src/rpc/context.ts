import { AsyncLocalStorage } from "node:async_hooks";
import { randomFillSync, randomUUID } from "node:crypto";

/** W3C trace context of the current unit of work (https://www.w3.org/TR/trace-context/). */
export interface TraceContext {
  readonly traceId: string;
  readonly spanId: string;
  readonly sampled: boolean;
}

/** What travels with every request and message: one correlation id, the trace context and the caller. */
export interface CallContext {
  readonly correlationId: string;
  readonly trace: TraceContext;
  /**
   * Who is acting, as recorded on what the call writes: the calling service's name, the event's
   * source for a consumed message, or "gateway:<client id>" once the gateway has authenticated a
   * channel (the one place that sets it after the context is made). Empty when nobody said.
   */
  caller: string;
}

const storage = new AsyncLocalStorage<CallContext>();

/** The call context of the request or message being handled, if any. */
export function currentCallContext(): CallContext | undefined {
  return storage.getStore();
}

/** Runs fn with ctx as the current call context (for its whole async extent). */
export function runWithCallContext<T>(ctx: CallContext, fn: () => T): T {
  return storage.run(ctx, fn);
}

const traceparentPattern = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** Parses a version-00 traceparent header; undefined when absent, malformed or all-zero. */
export function parseTraceparent(header: string | null | undefined): TraceContext | undefined {
  const match = header ? traceparentPattern.exec(header.trim().toLowerCase()) : null;
  if (!match) return undefined;
  const [, traceId = "", spanId = "", flags = "00"] = match;
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId, sampled: (Number.parseInt(flags, 16) & 1) === 1 };
}

export function formatTraceparent(trace: TraceContext): string {
  return `00-${trace.traceId}-${trace.spanId}-${trace.sampled ? "01" : "00"}`;
}

// Span and trace ids come from a pool of random bytes filled 4 KiB at a time: one call to the system's
// random source per 512 spans instead of one per span.
const randomPool = Buffer.allocUnsafe(4096);
let poolOffset = randomPool.length;
function randomHex(bytes: number): string {
  if (poolOffset + bytes > randomPool.length) {
    randomFillSync(randomPool);
    poolOffset = 0;
  }
  poolOffset += bytes;
  return randomPool.toString("hex", poolOffset - bytes, poolOffset);
}

/** A new span in the same trace (or a new trace when there is no parent). */
export function childTrace(parent: TraceContext | undefined): TraceContext {
  const spanId = randomHex(8);
  return parent
    ? { traceId: parent.traceId, spanId, sampled: parent.sampled }
    : { traceId: randomHex(16), spanId, sampled: true };
}

/**
 * Builds the call context for an incoming request or message from its headers: the trace is a child
 * of the traceparent, or the given trace when the unit of work already has its span (telemetry).
 */
export function callContextFrom(
  correlationId: string | null | undefined,
  traceparent: string | TraceContext | null | undefined,
  caller?: string | null,
): CallContext {
  const trace =
    typeof traceparent === "object" && traceparent ? traceparent : childTrace(parseTraceparent(traceparent));
  const id = correlationId?.trim();
  return {
    correlationId: id && id.length <= 128 ? id : randomUUID(),
    trace,
    caller: (caller ?? "").trim().slice(0, 128),
  };
}

export const correlationHeader = "x-correlation-id";
export const traceparentHeader = "traceparent";
export const callerHeader = "x-mesh-caller";

// OpenTelemetry spans for the mesh's units of work: an HTTP request at the gateway, an RPC on each side,
// an event published and an event consumed. The call context (rpc/context.ts) stays the one carrier of
// trace ids through the process and over the wire (traceparent in gRPC metadata and AMQP headers); when a
// process has started telemetry, each unit of work is also an SDK span whose ids are the ones carried, and
// the spans go out over OTLP/HTTP protobuf to OTEL_EXPORTER_OTLP_ENDPOINT (or ..._TRACES_ENDPOINT). When it
// has not (no endpoint set), a span is only a new span id, as before: nothing else is paid.
import { hostname } from "node:os";
import {
  type Attributes,
  ROOT_CONTEXT,
  type Span as SdkSpan,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import { childTrace, type TraceContext } from "../rpc/context.js";

export { SpanKind };

/** A unit of work being timed: its trace context is what the work carries on. */
export interface Span {
  readonly trace: TraceContext;
  /**
   * Ends the span; an error marks it failed (its message, not the payload, is recorded). `update`
   * names it and adds attributes known only at the end (the route a request matched, its status).
   */
  end(error?: unknown, update?: { name?: string; attributes?: Attributes }): void;
}

export interface Telemetry {
  /** Exports what is still buffered and stops exporting. */
  shutdown(): Promise<void>;
}

let tracer: Tracer | undefined;
let provider: TracerProvider | undefined;

const untraced = (parent: TraceContext | undefined): Span => ({ trace: childTrace(parent), end() {} });

/** Whether this process exports spans (telemetry started). */
export function tracing(): boolean {
  return tracer !== undefined;
}

/**
 * Starts a span named `name` under `parent` (a new trace when there is none). Without telemetry this
 * is childTrace(parent) and a no-op end.
 */
export function startSpan(
  name: string,
  kind: SpanKind,
  parent: TraceContext | undefined,
  attributes?: Attributes,
): Span {
  if (!tracer) return untraced(parent);
  const context = parent
    ? trace.setSpanContext(ROOT_CONTEXT, {
        traceId: parent.traceId,
        spanId: parent.spanId,
        traceFlags: parent.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
        isRemote: true,
      })
    : ROOT_CONTEXT;
  const span: SdkSpan = tracer.startSpan(name, { kind, ...(attributes && { attributes }) }, context);
  const ids = span.spanContext();
  return {
    trace: { traceId: ids.traceId, spanId: ids.spanId, sampled: (ids.traceFlags & TraceFlags.SAMPLED) !== 0 },
    end(error, update) {
      if (update?.name) span.updateName(update.name);
      if (update?.attributes) span.setAttributes(update.attributes);
      if (error !== undefined) {
        span.setStatus({
          code: SpanStatusCode.ERROR,
          message: error instanceof Error ? error.message : String(error),
        });
      }
      span.end();
    },
  };
}

function samplerFrom(env: NodeJS.ProcessEnv): Sampler {
  // The standard variables, for the two samplers a mesh wants: everything, or a ratio of new traces
  // (a trace begun elsewhere follows its parent's decision either way).
  const ratio = Number(env.OTEL_TRACES_SAMPLER_ARG);
  const root =
    env.OTEL_TRACES_SAMPLER === "parentbased_traceidratio" && Number.isFinite(ratio)
      ? new TraceIdRatioBasedSampler(ratio)
      : new AlwaysOnSampler();
  return new ParentBasedSampler({ root });
}

/**
 * Starts exporting this process's spans when OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set (the exporter reads them, and the standard headers and
 * timeout variables, itself); otherwise returns undefined and spans stay ids only. Once per process.
 */
export function startTelemetry(service: string, env: NodeJS.ProcessEnv = process.env): Telemetry | undefined {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return undefined;
  if (env.OTEL_SDK_DISABLED === "true") return undefined;
  if (provider) throw new Error("telemetry is already started in this process");
  const started = new TracerProvider({
    resource: resourceFromAttributes({
      "service.name": env.OTEL_SERVICE_NAME || service,
      "service.namespace": "retail-mesh",
      "service.instance.id": `${hostname()}:${process.pid}`,
    }),
    sampler: samplerFrom(env),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: new OTLPTraceExporter(),
        // The standard variable for how long spans wait to be sent (5 s unless set).
        ...(Number(env.OTEL_BSP_SCHEDULE_DELAY) > 0 && {
          scheduledDelayMillis: Number(env.OTEL_BSP_SCHEDULE_DELAY),
        }),
      }),
    ],
  });
  provider = started;
  tracer = started.getTracer("@retail/platform");
  return {
    async shutdown() {
      tracer = undefined;
      provider = undefined;
      await started.shutdown();
    },
  };
}

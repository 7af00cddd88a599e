// A Connect service implementation served by @grpc/grpc-js. The handlers and the HandlerContext they
// read are Connect's (a handler is written once, and its unit tests run on Connect's in-memory
// transport); grpc-js carries the calls. A unary call goes through the platform's edge directly, with a
// context whose signal and headers are made only when a handler reads them: Connect's own context and
// interceptor chain cost about as much as grpc-js itself (packages/platform/bench/rpc-floor.ts).
// Streams (health Watch, reflection), and unary calls when a server has extra Connect interceptors,
// take Connect's path.
import { type EventEmitter, once } from "node:events";
import { create, type DescMethod, type DescService, isMessage } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  createContextValues,
  createHandlerContext,
  createServiceImplSpec,
  type HandlerContext,
  type Interceptor,
  type MethodImplSpec,
  type ServiceImpl,
} from "@connectrpc/connect";
import {
  getAbortSignalReason,
  invokeUnaryImplementation,
  transformInvokeImplementation,
} from "@connectrpc/connect/protocol";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import {
  Metadata as GrpcMetadata,
  type Metadata,
  type MethodDefinition,
  type ServerDuplexStream,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceError,
  type status as Status,
  type UntypedHandleCall,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { correlationHeader, formatTraceparent, traceparentHeader } from "../rpc/context.js";
import { grpcMethodDefinition, metadataEntries, metadataFromHeaders } from "../rpc/grpc-wire.js";
import { kCallContext, type ServerEdge } from "../rpc/server-interceptor.js";

export interface GrpcServingOptions {
  /** The platform's edge: call context, text rules, peer check, error mapping, log line, metrics. */
  readonly edge: ServerEdge;
  /** The same edge as Connect interceptors, followed by any extra ones: for Connect's path. */
  readonly interceptors: readonly Interceptor[];
  /** Extra interceptors are set: every call takes Connect's path, so they run. */
  readonly connectPathOnly: boolean;
  /** Aborts every handler's signal (the end of a graceful stop's grace). */
  readonly shutdownSignal: AbortSignal;
  /** Longest deadline a caller may set; longer ones are refused INVALID_ARGUMENT. */
  readonly maxTimeoutMs: number;
  /** Told when a call starts (+1) and ends (-1). */
  readonly track: (delta: 1 | -1) => void;
}

type AnyCall =
  | ServerUnaryCall<unknown, unknown>
  | ServerWritableStream<unknown, unknown>
  | ServerReadableStream<unknown, unknown>
  | ServerDuplexStream<unknown, unknown>;

/** Connect's error as grpc-js sends it: code, message, and the error details and metadata as trailers. */
function toServiceError(error: unknown, trailer: Headers | undefined): Partial<ServiceError> {
  const failure = ConnectError.from(error);
  return {
    code: failure.code as number as Status,
    details: failure.rawMessage,
    metadata: metadataFromHeaders(setTrailerStatus(new Headers(trailer), failure)),
  };
}

/** The call's deadline (epoch ms), or undefined; one beyond the server's longest is refused. */
function deadlineOf(call: AnyCall, options: GrpcServingOptions): number | undefined {
  const deadline = call.getDeadline();
  const until = deadline instanceof Date ? deadline.getTime() : deadline;
  if (!Number.isFinite(until)) return undefined;
  const timeoutMs = Math.max(0, until - Date.now());
  if (timeoutMs > options.maxTimeoutMs)
    throw new ConnectError(
      `the deadline of ${timeoutMs} ms is longer than the ${options.maxTimeoutMs} ms allowed`,
      Code.InvalidArgument,
    );
  return until;
}

function contextOf(call: AnyCall, method: DescMethod, options: GrpcServingOptions): HandlerContextController {
  const until = deadlineOf(call, options);
  const cancelled = new AbortController();
  // No timer of Connect's for the deadline: grpc-js keeps it, and cancels the call when it passes.
  const context = createHandlerContext({
    service: method.parent,
    method,
    protocolName: "grpc",
    requestMethod: "POST",
    url: call.getPath(),
    shutdownSignal: options.shutdownSignal,
    requestSignal: cancelled.signal,
    requestHeader: metadataEntries(call.metadata),
  });
  if (until !== undefined) Object.assign(context, { timeoutMs: () => until - Date.now() });
  // grpc-js reports every call's stream closing as "cancelled", also after the call has been answered.
  (call as EventEmitter).once("cancelled", () => {
    if (!context.signal.aborted) cancelled.abort(cancelReason(until));
  });
  return context;
}

const callEnded = new ConnectError("the call has ended", Code.Canceled);
const cancelledByCaller = new ConnectError("the caller cancelled the call", Code.Canceled);
const deadlinePassed = new ConnectError("the call's deadline has passed", Code.DeadlineExceeded);

/**
 * The server counts a call's deadline from when it read the call's headers, later than the caller did:
 * a caller whose own deadline passed cancels that much before the server's passes (more on a loaded
 * machine: seen in a full test run). A cancellation this close to the deadline is the deadline's.
 */
const deadlineSlackMs = 100;

/** Why grpc-js cancelled a call: its deadline passed, or the caller cancelled it. */
const cancelReason = (until: number | undefined) =>
  until !== undefined && Date.now() >= until - deadlineSlackMs ? deadlinePassed : cancelledByCaller;

/** A call's end: its signal is aborted (work it started stops, listeners let go). */
function ended(context: { abort(reason: unknown): void } | undefined, options: GrpcServingOptions) {
  context?.abort(callEnded);
  options.track(-1);
}

/** What createHandlerContext gives: a HandlerContext its owner can abort. */
type HandlerContextController = ReturnType<typeof createHandlerContext>;

type Answer = (error: unknown, value?: unknown, trailer?: unknown) => void;

/** What a call answered by one message sends: its header, the message and its trailer. */
interface Answered {
  readonly header: Metadata;
  readonly output: unknown;
  readonly trailer: Metadata | undefined;
}

/**
 * A call answered by one message (unary and client-streaming): its context is opened, `produce` makes
 * the answer, the header goes first, then the message and trailer, or the error; the context is
 * aborted at the end whatever happened.
 */
function answerOnce<
  Call extends ServerUnaryCall<unknown, unknown> | ServerReadableStream<unknown, unknown>,
  Context extends { abort(reason: unknown): void; readonly responseTrailer: Headers },
>(
  options: GrpcServingOptions,
  open: (call: Call) => Context,
  produce: (call: Call, context: Context) => Promise<Answered>,
) {
  return (call: Call, callback: Answer) => {
    options.track(1);
    let context: Context | undefined;
    const answer = async () => {
      context = open(call);
      const { header, output, trailer } = await produce(call, context);
      call.sendMetadata(header);
      return { output, trailer };
    };
    answer()
      .then(
        ({ output, trailer }) => callback(null, output, trailer),
        (error: unknown) => callback(toServiceError(error, context?.responseTrailer)),
      )
      .finally(() => ended(context, options));
  };
}

/** Connect's context and interceptors around a call answered by one message. */
function answerOnceThroughConnect<
  Call extends ServerUnaryCall<unknown, unknown> | ServerReadableStream<unknown, unknown>,
>(
  spec: MethodImplSpec,
  options: GrpcServingOptions,
  produce: (call: Call, context: HandlerContextController) => Promise<unknown>,
) {
  return answerOnce(
    options,
    (call: Call) => contextOf(call, spec.method, options),
    async (call, context) => {
      const output = await produce(call, context);
      return {
        header: metadataFromHeaders(context.responseHeader),
        output,
        trailer: metadataFromHeaders(context.responseTrailer),
      };
    },
  );
}

/**
 * A HandlerContext for a unary call carried by grpc-js. What costs (an AbortSignal linked to the call's
 * cancellation and the server's shutdown, Headers objects) is made on first use: most handlers never
 * read it.
 */
class GrpcCallContext implements HandlerContext {
  readonly protocolName = "grpc";
  readonly requestMethod = "POST";
  readonly values = createContextValues();
  #controller: AbortController | undefined;
  #requestHeader: Headers | undefined;
  #responseHeader: Headers | undefined;
  #responseTrailer: Headers | undefined;
  #ended = false;
  readonly #onShutdown = () => this.#controller?.abort(getAbortSignalReason(this.shutdown));

  constructor(
    readonly call: ServerUnaryCall<unknown, unknown>,
    readonly method: DescMethod,
    readonly shutdown: AbortSignal,
    readonly until: number | undefined,
  ) {}

  get service(): DescService {
    return this.method.parent;
  }
  get url(): string {
    return this.call.getPath();
  }
  readonly timeoutMs = () => (this.until === undefined ? undefined : this.until - Date.now());

  get signal(): AbortSignal {
    if (!this.#controller) {
      const controller = new AbortController();
      this.#controller = controller;
      if (this.#ended) controller.abort(callEnded);
      else if (this.shutdown.aborted) controller.abort(getAbortSignalReason(this.shutdown));
      else {
        this.shutdown.addEventListener("abort", this.#onShutdown, { once: true });
        (this.call as EventEmitter).once("cancelled", () => {
          if (!this.#ended) controller.abort(cancelReason(this.until));
        });
      }
    }
    return this.#controller.signal;
  }
  get requestHeader(): Headers {
    this.#requestHeader ??= new Headers(metadataEntries(this.call.metadata));
    return this.#requestHeader;
  }
  get responseHeader(): Headers {
    this.#responseHeader ??= new Headers();
    return this.#responseHeader;
  }
  get responseTrailer(): Headers {
    this.#responseTrailer ??= new Headers();
    return this.#responseTrailer;
  }
  /** What a handler added to the response's header or trailer, if it added anything. */
  get written(): { header: Headers | undefined; trailer: Headers | undefined } {
    return { header: this.#responseHeader, trailer: this.#responseTrailer };
  }

  /** The call's end: a signal already handed out is aborted with `reason`. */
  abort(reason: unknown): void {
    this.#ended = true;
    if (!this.#controller) return;
    this.shutdown.removeEventListener("abort", this.#onShutdown);
    this.#controller.abort(reason);
  }
}

const firstValue = (metadata: Metadata, name: string) => {
  const [value] = metadata.get(name);
  return typeof value === "string" ? value : undefined;
};

function unaryHandler(spec: MethodImplSpec & { kind: "unary" }, options: GrpcServingOptions) {
  if (options.connectPathOnly) {
    const interceptors = [...options.interceptors];
    return answerOnceThroughConnect(spec, options, (call: ServerUnaryCall<unknown, unknown>, context) =>
      invokeUnaryImplementation(spec, context, call.request as never, interceptors),
    );
  }
  const { method } = spec;
  const impl = spec.impl as (request: unknown, context: HandlerContext) => unknown;
  return answerOnce(
    options,
    (call: ServerUnaryCall<unknown, unknown>) =>
      new GrpcCallContext(call, method, options.shutdownSignal, deadlineOf(call, options)),
    async (call, context) => {
      const { context: callContext, value } = await options.edge(
        { method, header: (name) => firstValue(call.metadata, name), message: call.request },
        async (callContext) => {
          context.values.set(kCallContext, callContext);
          return impl(call.request, context);
        },
      );
      const { header: written, trailer } = context.written;
      const header = written ? metadataFromHeaders(written) : new GrpcMetadata();
      header.set(correlationHeader, callContext.correlationId);
      header.set(traceparentHeader, formatTraceparent(callContext.trace));
      return {
        header,
        output: isMessage(value, method.output) ? value : create(method.output, value as never),
        trailer: trailer ? metadataFromHeaders(trailer) : undefined,
      };
    },
  );
}

function clientStreamingHandler(spec: MethodImplSpec, options: GrpcServingOptions) {
  const interceptors = [...options.interceptors];
  return answerOnceThroughConnect(
    spec,
    options,
    async (call: ServerReadableStream<unknown, unknown>, context) => {
      let output: unknown;
      for await (const message of transformInvokeImplementation(spec, context, interceptors)(call as never))
        output = message;
      return output;
    },
  );
}

async function* single<T>(message: T): AsyncIterable<T> {
  yield message;
}

function streamingHandler(spec: MethodImplSpec, options: GrpcServingOptions) {
  const interceptors = [...options.interceptors];
  return (call: ServerWritableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>) => {
    options.track(1);
    let context: HandlerContextController | undefined;
    const answer = async () => {
      context = contextOf(call, spec.method, options);
      const input = "request" in call ? single(call.request) : (call as AsyncIterable<unknown>);
      let headerSent = false;
      for await (const message of transformInvokeImplementation(
        spec,
        context,
        interceptors,
      )(input as never)) {
        if (!headerSent) {
          call.sendMetadata(metadataFromHeaders(context.responseHeader));
          headerSent = true;
        }
        if (!call.write(message)) await once(call, "drain", { signal: context.signal });
      }
      if (!headerSent) call.sendMetadata(metadataFromHeaders(context.responseHeader));
      call.end(metadataFromHeaders(context.responseTrailer));
    };
    answer()
      .catch((error: unknown) => {
        if (!call.cancelled) call.emit("error", toServiceError(error, context?.responseTrailer));
      })
      .finally(() => ended(context, options));
  };
}

/** grpc-js's definition and implementation of a service, from its descriptor and Connect implementation. */
export function grpcService(
  service: DescService,
  impl: Partial<ServiceImpl<DescService>>,
  options: GrpcServingOptions,
): {
  definition: Record<string, MethodDefinition<unknown, unknown>>;
  implementation: UntypedServiceImplementation;
} {
  const definition: Record<string, MethodDefinition<unknown, unknown>> = {};
  const implementation: UntypedServiceImplementation = {};
  for (const spec of Object.values(createServiceImplSpec(service, impl).methods)) {
    const name = spec.method.localName;
    definition[name] = grpcMethodDefinition(spec.method);
    implementation[name] = (
      spec.kind === "unary"
        ? unaryHandler(spec, options)
        : spec.kind === "client_streaming"
          ? clientStreamingHandler(spec, options)
          : streamingHandler(spec, options)
    ) as UntypedHandleCall;
  }
  return { definition, implementation };
}

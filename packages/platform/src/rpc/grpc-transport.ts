// A Connect Transport whose unary calls @grpc/grpc-js carries: typed Connect clients and Connect's
// interceptors (deadlines, context propagation, peer tokens, retries) as before, at about three times
// the rate of connect-node's gRPC client (packages/platform/bench/rpc-floor.ts). Streaming calls, which
// the mesh's services do not make to each other, go through connect-node's gRPC transport.
import {
  create,
  type DescMessage,
  type DescMethodStreaming,
  type DescMethodUnary,
  isMessage,
  type MessageInitShape,
} from "@bufbuild/protobuf";
import {
  type Code,
  ConnectError,
  type ContextValues,
  createContextKey,
  createContextValues,
  type Interceptor,
  type Transport,
  type UnaryRequest,
  type UnaryResponse,
} from "@connectrpc/connect";
import { findTrailerError } from "@connectrpc/connect/protocol-grpc";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Client, credentials, type Metadata, status as Status, type StatusObject } from "@grpc/grpc-js";
import { grpcMethodDefinition, grpcPath, headersFromMetadata, metadataFromHeaders } from "./grpc-wire.js";

export interface GrpcJsTransportOptions {
  /** "http://inventory:8080" (https: TLS). */
  readonly baseUrl: string;
  readonly defaultTimeoutMs?: number | undefined;
  /** Headers every call carries unless it sets them itself (the call context, the peer token). */
  readonly callHeaders?: () => [string, string][] | Promise<[string, string][]>;
  /** Around every call (retries, error mapping). */
  readonly interceptors?: readonly Interceptor[];
}

/** The ConnectError a failed grpc-js call stands for, with the error details its trailers carry. */
function connectErrorOf(error: StatusObject): ConnectError {
  const trailer = headersFromMetadata(error.metadata);
  trailer.set("grpc-status", String(error.code));
  trailer.set("grpc-message", encodeURIComponent(error.details ?? ""));
  return findTrailerError(trailer) ?? new ConnectError(error.details, error.code as number as Code, trailer);
}

type UnaryFn = (request: UnaryRequest) => Promise<UnaryResponse>;

const deadlineKey = createContextKey<number | undefined>(undefined, { description: "deadline (epoch ms)" });
const notAborted = new AbortController().signal;

export function createGrpcJsTransport(options: GrpcJsTransportOptions): Transport {
  const url = new URL(options.baseUrl);
  const channel = new Client(
    url.host,
    url.protocol === "https:" ? credentials.createSsl() : credentials.createInsecure(),
    {
      "grpc.max_receive_message_length": -1,
      // A peer that was away is tried again within two seconds, not after grpc-js's default backoff of
      // up to two minutes (calls fail UNAVAILABLE, and are retried, while the channel waits to reconnect).
      "grpc.initial_reconnect_backoff_ms": 100,
      "grpc.max_reconnect_backoff_ms": 2_000,
    },
  );
  // Connect now, not on the first call: the first call does not wait for the handshake.
  channel.getChannel().getConnectivityState(true);
  const interceptors = [...(options.interceptors ?? [])];
  const { callHeaders } = options;
  const addCallHeaders: Interceptor = (next) => async (request) => {
    for (const [name, value] of (await callHeaders?.()) ?? [])
      if (!request.header.has(name)) request.header.set(name, value);
    return next(request);
  };
  const streaming = createGrpcTransport({
    baseUrl: options.baseUrl,
    ...(options.defaultTimeoutMs === undefined ? {} : { defaultTimeoutMs: options.defaultTimeoutMs }),
    interceptors: [addCallHeaders, ...interceptors],
  });
  const base = options.baseUrl.replace(/\/$/, "");

  const send = async <I extends DescMessage, O extends DescMessage>(request: UnaryRequest<I, O>) => {
    const metadata = metadataFromHeaders(request.header);
    for (const [name, value] of (await callHeaders?.()) ?? [])
      if (metadata.get(name).length === 0) metadata.set(name, value);
    return call(request, metadata);
  };
  // A unary call straight on the channel (what grpc-js's Client does, without the stack trace it
  // captures on every call and its event emitter): start, read, send the one message, half-close.
  const grpcChannel = channel.getChannel();
  const call = <I extends DescMessage, O extends DescMessage>(
    request: UnaryRequest<I, O>,
    metadata: Metadata,
  ) =>
    new Promise<UnaryResponse<I, O>>((resolve, reject) => {
      const definition = grpcMethodDefinition(request.method);
      const pending = grpcChannel.createCall(
        definition.path,
        request.contextValues.get(deadlineKey) ?? Number.POSITIVE_INFINITY,
        null,
        null,
        null,
      );
      let header: Metadata | undefined;
      let output: unknown;
      let unreadable: string | undefined;
      const cancel = () => pending.cancelWithStatus(Status.CANCELLED, "Cancelled on client");
      pending.start(metadata, {
        onReceiveMetadata(received) {
          header = received;
        },
        onReceiveMessage(bytes: Buffer) {
          try {
            output = definition.responseDeserialize(bytes);
          } catch (error) {
            unreadable = `the response does not parse: ${error instanceof Error ? error.message : String(error)}`;
            pending.cancelWithStatus(Status.INTERNAL, unreadable);
          }
        },
        onReceiveStatus(status: StatusObject) {
          request.signal.removeEventListener("abort", cancel);
          if (status.code !== Status.OK || output === undefined) {
            reject(
              connectErrorOf(
                status.code === Status.OK
                  ? { ...status, code: Status.UNIMPLEMENTED, details: "no response message" }
                  : { ...status, details: unreadable ?? status.details },
              ),
            );
            return;
          }
          // Header and trailer as Headers only for a caller that reads them (onHeader, onTrailer).
          let responseHeader: Headers | undefined;
          let responseTrailer: Headers | undefined;
          resolve({
            stream: false,
            service: request.service,
            method: request.method,
            get header() {
              responseHeader ??= header ? headersFromMetadata(header) : new Headers();
              return responseHeader;
            },
            get trailer() {
              responseTrailer ??= headersFromMetadata(status.metadata);
              return responseTrailer;
            },
            message: output as UnaryResponse<I, O>["message"],
          });
        },
      });
      pending.startRead();
      pending.sendMessageWithContext({}, definition.requestSerialize(request.message));
      pending.halfClose();
      if (request.signal.aborted) cancel();
      else request.signal.addEventListener("abort", cancel, { once: true });
    });
  // The interceptors wrap the call once, not on every call; the deadline travels in the context values.
  const chain = interceptors.reduceRight<UnaryFn>(
    (next, interceptor) => interceptor(next as never) as UnaryFn,
    send as UnaryFn,
  );

  return {
    unary<I extends DescMessage, O extends DescMessage>(
      method: DescMethodUnary<I, O>,
      signal: AbortSignal | undefined,
      timeoutMs: number | undefined,
      header: ConstructorParameters<typeof Headers>[0],
      input: MessageInitShape<I>,
      contextValues?: ContextValues,
    ): Promise<UnaryResponse<I, O>> {
      const values = contextValues ?? createContextValues();
      const wait = timeoutMs ?? options.defaultTimeoutMs;
      // One deadline for the whole call, retries included.
      if (wait !== undefined) values.set(deadlineKey, Date.now() + wait);
      return chain({
        stream: false,
        service: method.parent,
        method,
        requestMethod: "POST",
        url: `${base}${grpcPath(method)}`,
        signal: signal ?? notAborted,
        header: new Headers(header),
        contextValues: values,
        message: isMessage(input, method.input) ? input : create(method.input, input),
      }) as Promise<UnaryResponse<I, O>>;
    },
    stream<I extends DescMessage, O extends DescMessage>(
      method: DescMethodStreaming<I, O>,
      signal: AbortSignal | undefined,
      timeoutMs: number | undefined,
      header: ConstructorParameters<typeof Headers>[0],
      input: AsyncIterable<MessageInitShape<I>>,
      contextValues?: ContextValues,
    ) {
      return streaming.stream(method, signal, timeoutMs, header, input, contextValues);
    },
  };
}

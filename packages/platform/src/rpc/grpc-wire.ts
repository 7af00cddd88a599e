// What both ends of a gRPC call between the mesh's services share when @grpc/grpc-js carries it: a
// method's path and (de)serialisers from its protobuf-es descriptor, and metadata as the Headers that
// Connect's interceptors and handlers read and write ("-bin" values base64 in Headers, bytes on the wire).
import {
  type DescMessage,
  type DescMethod,
  fromBinary,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import { Metadata, type MethodDefinition } from "@grpc/grpc-js";

const toBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

function codec<Desc extends DescMessage>(schema: Desc) {
  return {
    serialize: (message: MessageShape<Desc>) => toBuffer(toBinary(schema, message)),
    deserialize: (bytes: Buffer) => fromBinary(schema, bytes),
  };
}

export function grpcPath(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}

const definitions = new WeakMap<DescMethod, MethodDefinition<unknown, unknown>>();

/** grpc-js's definition of one method, from its descriptor (made once per method). */
export function grpcMethodDefinition(method: DescMethod): MethodDefinition<unknown, unknown> {
  let definition = definitions.get(method);
  if (!definition) {
    definition = defineMethod(method);
    definitions.set(method, definition);
  }
  return definition;
}

function defineMethod(method: DescMethod): MethodDefinition<unknown, unknown> {
  const input = codec(method.input);
  const output = codec(method.output);
  return {
    path: grpcPath(method),
    requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
    responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
    requestSerialize: input.serialize as (value: unknown) => Buffer,
    requestDeserialize: input.deserialize,
    responseSerialize: output.serialize as (value: unknown) => Buffer,
    responseDeserialize: output.deserialize,
  };
}

// Set by HTTP/2 or gRPC itself; never copied between Headers and metadata.
const transportKeys = new Set(["content-type", "te", "user-agent", "grpc-encoding", "grpc-accept-encoding"]);
const ownedByGrpc = (key: string) =>
  key.startsWith(":") || transportKeys.has(key) || key === "grpc-status" || key === "grpc-message";

/** Metadata as header pairs ("-bin" values base64), for `new Headers(...)`. */
export function metadataEntries(metadata: Metadata): [string, string][] {
  const entries: [string, string][] = [];
  for (const [key, value] of Object.entries(metadata.getMap())) {
    if (ownedByGrpc(key)) continue;
    entries.push([key, typeof value === "string" ? value : value.toString("base64")]);
  }
  return entries;
}

export function headersFromMetadata(metadata: Metadata): Headers {
  return new Headers(metadataEntries(metadata));
}

export function metadataFromHeaders(headers: Headers): Metadata {
  const metadata = new Metadata();
  headers.forEach((value, key) => {
    if (ownedByGrpc(key)) return;
    if (key.endsWith("-bin")) metadata.set(key, Buffer.from(value, "base64"));
    else metadata.set(key, value);
  });
  return metadata;
}

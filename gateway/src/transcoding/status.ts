// Errors as REST callers see them: the HTTP status from the gRPC code, by the table Connect,
// grpc-gateway and google/rpc/code.proto share, and a google.rpc.Status JSON body (numeric code,
// message, details packed as Any with "@type"). Details the gateway cannot name (an unknown type) are
// left out rather than sent as opaque bytes; a stack trace or cause never leaves the process.
import { create, createRegistry, type Registry, toJson } from "@bufbuild/protobuf";
import { AnySchema, anyPack } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  BadRequestSchema,
  DebugInfoSchema,
  ErrorInfoSchema,
  HelpSchema,
  LocalizedMessageSchema,
  PreconditionFailureSchema,
  QuotaFailureSchema,
  RequestInfoSchema,
  ResourceInfoSchema,
  RetryInfoSchema,
} from "@retail/contracts/google/rpc/error_details_pb";
import { StatusSchema } from "@retail/contracts/google/rpc/status_pb";

const detailRegistry: Registry = createRegistry(
  BadRequestSchema,
  ErrorInfoSchema,
  RetryInfoSchema,
  QuotaFailureSchema,
  PreconditionFailureSchema,
  ResourceInfoSchema,
  RequestInfoSchema,
  HelpSchema,
  LocalizedMessageSchema,
  DebugInfoSchema,
);

const httpStatusByCode: Record<Code, number> = {
  [Code.Canceled]: 499,
  [Code.Unknown]: 500,
  [Code.InvalidArgument]: 400,
  [Code.DeadlineExceeded]: 504,
  [Code.NotFound]: 404,
  [Code.AlreadyExists]: 409,
  [Code.PermissionDenied]: 403,
  [Code.ResourceExhausted]: 429,
  [Code.FailedPrecondition]: 400,
  [Code.Aborted]: 409,
  [Code.OutOfRange]: 400,
  [Code.Unimplemented]: 501,
  [Code.Internal]: 500,
  [Code.Unavailable]: 503,
  [Code.DataLoss]: 500,
  [Code.Unauthenticated]: 401,
};

/** The HTTP status of a gRPC code (google/rpc/code.proto's table). */
export function httpStatusOf(code: Code): number {
  return httpStatusByCode[code] ?? 500;
}

/** The google.rpc.Status JSON of an error; DebugInfo is dropped (it may carry internals). */
export function statusJson(error: ConnectError): unknown {
  const details = error.details.flatMap((detail) => {
    if ("desc" in detail) {
      if (detail.desc.typeName === DebugInfoSchema.typeName) return [];
      return [anyPack(detail.desc, create(detail.desc, detail.value))];
    }
    const known = detailRegistry.getMessage(detail.type);
    if (!known || known.typeName === DebugInfoSchema.typeName) return [];
    return [create(AnySchema, { typeUrl: `type.googleapis.com/${detail.type}`, value: detail.value })];
  });
  return toJson(
    StatusSchema,
    create(StatusSchema, { code: error.code, message: error.rawMessage, details }),
    { registry: detailRegistry },
  );
}

/** Any thrown value as a ConnectError; anything unexpected becomes a generic INTERNAL. */
export function asConnectError(error: unknown): ConnectError {
  if (error instanceof ConnectError) return error;
  return new ConnectError("internal error", Code.Internal);
}

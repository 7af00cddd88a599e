// Reading a request body: never more than the limit (a Content-Length over it is refused before
// reading, a chunked body as soon as it passes it), JSON only, parsed strictly.
import type { IncomingMessage } from "node:http";
import { Code, type ConnectError } from "@connectrpc/connect";
import { errorWithInfo, RequestInvalid } from "@retail/platform/rpc";
import type { Json } from "../transcoding/json-check.js";

/** An error the gateway answers with its own HTTP status (413, 415, 422 …) instead of the code's. */
export class HttpRefusal extends Error {
  constructor(
    readonly status: number,
    readonly error: ConnectError,
    readonly headers: Record<string, string> = {},
  ) {
    super(error.rawMessage);
  }
}

export function bodyTooLarge(limit: number): HttpRefusal {
  return new HttpRefusal(
    413,
    errorWithInfo(Code.InvalidArgument, "BODY_TOO_LARGE", `the request body is larger than ${limit} bytes`, {
      limit_bytes: String(limit),
    }),
  );
}

/** Reads the whole body, refusing it past `limit` bytes. */
export async function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(request.headers["content-length"] ?? "0");
  if (declared > limit) {
    request.resume();
    throw bodyTooLarge(limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      request.resume();
      throw bodyTooLarge(limit);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** A request header's (first) value. */
export function requestHeader(request: Pick<IncomingMessage, "headers">, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Refuses (415) a body whose media type is not accepted; "+json" accepts any structured JSON type. */
export function requireMediaType(
  request: Pick<IncomingMessage, "headers">,
  accepted: readonly string[],
): void {
  const mediaType = (requestHeader(request, "content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (!accepted.some((a) => (a.startsWith("+") ? mediaType.endsWith(a) : mediaType === a)))
    throw new HttpRefusal(
      415,
      errorWithInfo(Code.InvalidArgument, "UNSUPPORTED_MEDIA_TYPE", `send the body as ${accepted[0]}`, {
        content_type: mediaType || "(none)",
      }),
    );
}

/** Parses JSON text, or undefined when the body is empty; malformed JSON is a field violation. */
export function parseJson(raw: Buffer, parse: (text: string) => unknown = JSON.parse): Json | undefined {
  if (raw.length === 0) return undefined;
  try {
    return parse(raw.toString("utf8")) as Json;
  } catch (error) {
    throw new RequestInvalid([
      { field: "(body)", description: `is not valid JSON: ${(error as Error).message}` },
    ]);
  }
}

/** The body as JSON, or undefined when empty; refuses other media types and malformed JSON. */
export function parseJsonBody(raw: Buffer, request: IncomingMessage): Json | undefined {
  if (raw.length === 0) return undefined;
  requireMediaType(request, ["application/json", "+json"]);
  return parseJson(raw);
}

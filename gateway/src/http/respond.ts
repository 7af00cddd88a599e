// Writing answers: JSON bodies, and errors as google.rpc.Status JSON with the HTTP status of their code
// (or the gateway's own status for refusals such as 413, 415, 422 and 429).
import type { ServerResponse } from "node:http";
import { toConnectError } from "@retail/platform/rpc";
import { httpStatusOf, statusJson } from "../transcoding/status.js";
import { HttpRefusal } from "./body.js";

export interface RenderedError {
  readonly status: number;
  readonly body: string;
  readonly headers?: Record<string, string>;
}

/** Sends a JSON body (already serialised). */
export function send(
  response: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    ...headers,
  });
  response.end(body);
}

/** What the caller sees of an error; anything unexpected is a generic INTERNAL. */
export function renderError(error: unknown): RenderedError {
  if (error instanceof HttpRefusal)
    return { status: error.status, body: JSON.stringify(statusJson(error.error)), headers: error.headers };
  const connect = toConnectError(error);
  return { status: httpStatusOf(connect.code), body: JSON.stringify(statusJson(connect)) };
}

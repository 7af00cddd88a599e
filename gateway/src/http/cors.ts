// CORS for browser channels (a storefront or app calling with a user's JWT): only origins listed in
// configuration get the Access-Control headers; a preflight is answered without authentication, as
// browsers send it without credentials. Everything else about the request is unchanged.
import type { IncomingMessage, ServerResponse } from "node:http";

const allowedHeaders = "authorization, content-type, idempotency-key, traceparent, x-api-key, x-request-id";
const exposedHeaders = "idempotent-replayed, retry-after, traceparent, x-request-id";

export interface Cors {
  /** Adds the response headers for an allowed origin; true when the request was a preflight, now answered. */
  handle(request: IncomingMessage, response: ServerResponse): boolean;
}

export function createCors(origins: readonly string[]): Cors {
  const allowed = new Set(origins);
  return {
    handle(request, response) {
      const origin = request.headers.origin;
      const preflight =
        request.method === "OPTIONS" && request.headers["access-control-request-method"] !== undefined;
      if (!origin || !allowed.has(origin)) {
        if (!preflight) return false;
        response.writeHead(403).end();
        return true;
      }
      response.setHeader("access-control-allow-origin", origin);
      response.setHeader("vary", "Origin");
      if (!preflight) {
        response.setHeader("access-control-expose-headers", exposedHeaders);
        return false;
      }
      response.writeHead(204, {
        "access-control-allow-methods": "GET, POST, PUT, PATCH, DELETE",
        "access-control-allow-headers": allowedHeaders,
        "access-control-max-age": "600",
      });
      response.end();
      return true;
    },
  };
}

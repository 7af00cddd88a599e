// The gateway's HTTP/1.1 server: operational endpoints without authentication (liveness, readiness,
// the OpenAPI document and its interactive page), every other path through the REST handler. Each
// request runs in a call context whose correlation id comes from X-Request-Id, else the traceparent's
// trace id, else a new one, and is returned on every answer with the gateway's own traceparent.
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Code } from "@connectrpc/connect";
import type { Logger } from "@retail/platform/log";
import {
  callContextFrom,
  errorWithInfo,
  formatTraceparent,
  parseTraceparent,
  runWithCallContext,
} from "@retail/platform/rpc";
import { SpanKind, startSpan } from "@retail/platform/telemetry";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { InboundJournal } from "../adapters/inbound-journal.js";
import { HttpRefusal, requestHeader } from "./body.js";
import { channelEndpoints } from "./channel-endpoints.js";
import { createCors } from "./cors.js";
import { receiveInbound } from "./inbound.js";
import { renderError, send } from "./respond.js";
import { handleRest, type RestDependencies, type RestOutcome } from "./rest-handler.js";
import { type StaticAssets, serveAsset } from "./static-assets.js";

export interface GatewayServerOptions {
  readonly port: number;
  readonly rest: RestDependencies;
  /** Where every channel message is journaled before it is handled. */
  readonly journal: InboundJournal;
  readonly logger: Logger;
  readonly registry: Registry;
  /** Per-request deadline, including the service call. */
  readonly requestTimeoutMs: number;
  /** Readiness: each dependency's status; ready when every one is "SERVING". */
  readonly readiness: () => Promise<Record<string, string>>;
  readonly openapiPath: URL;
  readonly docs: StaticAssets;
  /** The operations console's files (/console). */
  readonly console: StaticAssets;
  /** Origins allowed to call from a browser (CORS); empty for none. */
  readonly corsOrigins: readonly string[];
  /**
   * Requests handled at once beyond which new ones are shed at the door (503, Retry-After) instead of
   * queueing behind the services until every caller times out.
   */
  readonly maxInFlight: number;
}

export interface GatewayServer {
  readonly port: number;
  close(graceMs: number): Promise<void>;
}

export async function startGatewayServer(options: GatewayServerOptions): Promise<GatewayServer> {
  const { logger, rest } = options;
  const openapi = readFileSync(options.openapiPath, "utf8");
  const requests = new Counter({
    name: "http_server_requests_total",
    help: "REST requests, by route template and HTTP status",
    labelNames: ["route", "status"],
    registers: [options.registry],
  });
  const duration = new Histogram({
    name: "http_server_duration_seconds",
    help: "REST request handling time, including the service call",
    labelNames: ["route"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [options.registry],
  });

  const shed = new Counter({
    name: "gateway_shed_requests_total",
    help: "Requests refused at the door because maxInFlight requests were being handled (503)",
    registers: [options.registry],
  });
  let inFlight = 0;
  new Gauge({
    name: "gateway_requests_in_flight",
    help: "REST, webhook and import requests being handled now",
    registers: [options.registry],
    collect() {
      this.set(inFlight);
    },
  });
  const overloaded = () =>
    new HttpRefusal(
      503,
      errorWithInfo(
        Code.Unavailable,
        "OVERLOADED",
        `the gateway is handling ${options.maxInFlight} requests; try again shortly`,
      ),
      { "retry-after": "1" },
    );

  const cors = createCors(options.corsOrigins);
  const operational = async (path: string, response: ServerResponse): Promise<boolean> => {
    if (path === "/healthz") send(response, 200, JSON.stringify({ status: "SERVING" }));
    else if (path === "/readyz") {
      const dependencies = await options.readiness();
      const ready = Object.values(dependencies).every((s) => s === "SERVING");
      send(
        response,
        ready ? 200 : 503,
        JSON.stringify({ status: ready ? "SERVING" : "NOT_SERVING", dependencies }),
      );
    } else if (path === "/openapi.json") send(response, 200, openapi);
    else if (path === "/docs" || path.startsWith("/docs/")) serveAsset(options.docs, path, "/docs", response);
    else if (path === "/console" || path.startsWith("/console/"))
      serveAsset(options.console, path, "/console", response);
    else return false;
    return true;
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const started = performance.now();
    const parent = parseTraceparent(requestHeader(request, "traceparent"));
    // Named by its route once matched; the path itself (ids, query) stays out of the span.
    const span = startSpan(`${request.method}`, SpanKind.SERVER, parent, {
      "http.request.method": request.method ?? "",
    });
    const context = callContextFrom(requestHeader(request, "x-request-id") ?? parent?.traceId, span.trace);
    response.setHeader("x-request-id", context.correlationId);
    response.setHeader("traceparent", formatTraceparent(context.trace));
    const outcome: RestOutcome = { route: undefined, principal: undefined };
    const url = new URL(request.url ?? "/", "http://gateway");
    if (cors.handle(request, response)) return;
    if (request.method === "GET" && (await operational(url.pathname, response))) return;
    // The deadline travels with the service call (DEADLINE_EXCEEDED, 504); this signal only cancels the
    // call when the caller goes away.
    const abandoned = new AbortController();
    response.once("close", () => {
      if (!response.writableFinished) abandoned.abort();
    });
    inFlight++;
    await runWithCallContext(context, async () => {
      try {
        if (inFlight > options.maxInFlight) {
          shed.inc();
          throw overloaded();
        }
        const endpoint = request.method === "POST" ? channelEndpoints.get(url.pathname) : undefined;
        if (endpoint)
          await receiveInbound(rest, options.journal, endpoint, request, response, outcome, abandoned.signal);
        else await handleRest(rest, request, response, url, outcome, abandoned.signal);
      } catch (error) {
        const rendered = renderError(error);
        if (rendered.status >= 500)
          logger.error({ err: error, correlationId: context.correlationId }, "request failed");
        if (!response.headersSent) send(response, rendered.status, rendered.body, rendered.headers);
      } finally {
        inFlight--;
      }
    });
    const route = outcome.route
      ? `${outcome.route.binding.verb} ${outcome.route.binding.template.source}`
      : channelEndpoints.has(url.pathname)
        ? `POST ${url.pathname}`
        : "unmatched";
    const seconds = (performance.now() - started) / 1000;
    span.end(response.statusCode >= 500 ? `HTTP ${response.statusCode}` : undefined, {
      name: route,
      attributes: { "http.route": route, "http.response.status_code": response.statusCode },
    });
    requests.inc({ route, status: String(response.statusCode) });
    duration.observe({ route }, seconds);
    logger.info(
      {
        route,
        status: response.statusCode,
        ms: Math.round(seconds * 1000),
        client: outcome.principal?.client.id,
        correlationId: context.correlationId,
      },
      "http",
    );
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      logger.error({ err: error }, "request handling failed");
      if (!response.headersSent)
        send(response, 500, JSON.stringify({ code: 13, message: "internal error", details: [] }));
    });
  });
  server.requestTimeout = options.requestTimeoutMs + 5_000;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(options.port, "0.0.0.0", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: (graceMs) =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}

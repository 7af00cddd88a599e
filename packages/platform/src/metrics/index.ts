import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** The metrics every service exposes: RED per RPC, consumer throughput and lag, outbox backlog. */
export interface Metrics {
  readonly registry: Registry;
  readonly rpcRequests: Counter<"method" | "code">;
  readonly rpcDuration: Histogram<"method">;
  readonly consumedMessages: Counter<"queue" | "outcome">;
  /** Seconds from an event's occurrence (ce-time) to its handling by a consumer. */
  readonly consumerLag: Histogram<"queue">;
  readonly outboxBacklog: Gauge;
  readonly outboxPublished: Counter;
  readonly outboxPublishFailures: Counter;
  /** Commands sent to MongoDB, by command name (find, insert, update, ...). */
  readonly mongoCommands: Counter<"command" | "collection">;
}

/** Creates a registry of its own (never the global one) with the mesh's standard metrics. */
export function createMetrics(service: string): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    rpcRequests: new Counter({
      name: "rpc_server_requests_total",
      help: "RPCs handled, by method and final code (ok or the Connect code)",
      labelNames: ["method", "code"],
      registers,
    }),
    rpcDuration: new Histogram({
      name: "rpc_server_duration_seconds",
      help: "RPC handling time",
      labelNames: ["method"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    consumedMessages: new Counter({
      name: "amqp_consumer_messages_total",
      help: "Messages consumed, by queue and outcome (handled, duplicate, retried, parked)",
      labelNames: ["queue", "outcome"],
      registers,
    }),
    consumerLag: new Histogram({
      name: "amqp_consumer_lag_seconds",
      help: "Time from an event's occurrence to its handling",
      labelNames: ["queue"],
      buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
      registers,
    }),
    outboxBacklog: new Gauge({
      name: "outbox_backlog_events",
      help: "Stored events not yet confirmed by the broker",
      registers,
    }),
    outboxPublished: new Counter({
      name: "outbox_published_events_total",
      help: "Events published from the outbox with broker confirmation",
      registers,
    }),
    mongoCommands: new Counter({
      name: "mongodb_commands_total",
      help: "Commands sent to MongoDB by this process, by command name and the collection it names",
      labelNames: ["command", "collection"],
      registers,
    }),
    outboxPublishFailures: new Counter({
      name: "outbox_publish_failures_total",
      help: "Outbox publish attempts that failed (broker down or refused)",
      registers,
    }),
  };
}

/** Serves GET /metrics in the Prometheus text format on its own HTTP/1.1 port (0 picks a free one). */
export async function startMetricsServer(
  registry: Registry,
  port: number,
  host = "0.0.0.0",
): Promise<{ port: number; close: () => Promise<void> }> {
  const server: Server = createServer((request, response) => {
    if (request.method !== "GET" || request.url !== "/metrics") {
      response.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { "content-type": registry.contentType }).end(text),
      (error: unknown) => response.writeHead(500).end(String(error)),
    );
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

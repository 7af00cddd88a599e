import { ExceptionKind } from "@retail/contracts/retail/operations/v1/operations_pb";
import { OperationsService } from "@retail/contracts/retail/operations/v1/operations_service_pb";
import type { Logger } from "@retail/platform/log";
import { startRuntime } from "@retail/platform/runtime";
import { serve } from "@retail/platform/server";
import { ConcurrencyConflict } from "@retail/platform/store";
import { Gauge } from "prom-client";
import { startEventsConsumer } from "./adapters/amqp/events-consumer.js";
import { createChannelViewStore } from "./adapters/mongo/channel-views.js";
import { createExceptionStore } from "./adapters/mongo/exception-store.js";
import { createTimeline } from "./adapters/mongo/timeline.js";
import { createAdminTargets } from "./adapters/rpc/admin-targets.js";
import { createOrderStatuses } from "./adapters/rpc/order-statuses.js";
import { createOperationsHandler } from "./api/operations-handler.js";
import { StatusSamples, takeSample } from "./app/mesh-status.js";
import { compareViews } from "./app/order-drift.js";
import type { OperationsDeps } from "./app/ports.js";
import type { OperationsConfig } from "./config.js";

const eventsQueue = "operations.domain-events";

/** The queues this service consumes (without the environment's QUEUE_PREFIX). */
export const consumerQueues = [eventsQueue] as const;

export interface RunningOperations {
  readonly port: number;
  readonly metricsPort: number;
  readonly deps: OperationsDeps;
  stop(): Promise<boolean>;
}

/** The only place that knows every concrete class: MongoDB and RabbitMQ, the stores, the consumer, the RPC server. */
export async function composeOperations(
  config: OperationsConfig,
  logger: Logger,
): Promise<RunningOperations> {
  const runtime = await startRuntime({ name: "operations", database: "operations", config, logger });
  const timeline = createTimeline(runtime.db);
  await timeline.ensureIndexes();
  await timeline.refreshErasures();
  const exceptions = createExceptionStore(runtime.db);
  await exceptions.ensureIndexes();
  const channelViews = createChannelViewStore(runtime.db);
  await channelViews.ensureIndexes();
  const peers = { keys: config.MESH_SERVICE_KEYS, timeoutMs: config.PEER_TIMEOUT_MS };
  if (!config.ORDER_URL) logger.warn("ORDER_URL is not set: channels' views of orders cannot be compared");
  const adminTargets = createAdminTargets(
    {
      "customer-identity": config.CUSTOMER_IDENTITY_URL,
      inventory: config.INVENTORY_URL,
      order: config.ORDER_URL,
      "finance-posting": config.FINANCE_POSTING_URL,
      delivery: config.DELIVERY_URL,
    },
    peers,
  );
  const samples = new StatusSamples(Math.max(1, Math.ceil(3_600_000 / config.STATUS_SAMPLE_MS)));
  const deps: OperationsDeps = {
    timeline,
    exceptions,
    adminTargets,
    clock: { now: () => new Date() },
    logger,
    lateStockMs: config.LATE_STOCK_UPDATE_MS,
    channelViews,
    orderStatuses: config.ORDER_URL
      ? createOrderStatuses(config.ORDER_URL, peers)
      : {
          statusOf: () => Promise.reject(new Error("ORDER_URL is not set: the order's status is unknown")),
        },
    driftEvents: {
      append: (streamId, version, event) =>
        runtime.store.append(streamId, version, [event]).then(
          () => true,
          (error: unknown) => {
            if (error instanceof ConcurrencyConflict) return false;
            throw error;
          },
        ),
    },
    driftGraceMs: config.DRIFT_GRACE_MS,
    changedOrders: new Set(),
    onEvent: (time) => samples.observe(time, new Date()),
  };
  const events = await startEventsConsumer(
    {
      connection: runtime.amqp,
      exchange: config.EVENTS_EXCHANGE,
      queue: `${config.QUEUE_PREFIX}${eventsQueue}`,
      metrics: runtime.metrics,
    },
    deps,
  );
  const retention = setInterval(() => {
    const before = new Date(Date.now() - config.TRACE_RETENTION_DAYS * 86_400_000);
    timeline
      .forget(before)
      .then(
        (forgotten) =>
          forgotten > 0 && logger.info({ forgotten, before }, "trace events past retention removed"),
      )
      .catch((error: unknown) => logger.warn({ err: error }, "trace retention sweep failed"));
  }, 3_600_000);
  retention.unref();
  // Erasures another instance handled reach this one's memory; the last week's are applied again, so
  // an event kept with its body before an erasure was known here is emptied too.
  const erasureRefresh = setInterval(() => {
    timeline
      .refreshErasures()
      .then(() => timeline.reapplyErasures(new Date(Date.now() - 7 * 86_400_000)))
      .then(
        (emptied) => emptied > 0 && logger.info({ emptied }, "emptied events of erased customers kept late"),
      )
      .catch((error: unknown) => logger.warn({ err: error }, "erasure refresh failed"));
  }, config.ERASURE_REFRESH_MS);
  erasureRefresh.unref();
  // What the alerting rules read: open items per kind and the age of the oldest (deploy/monitoring).
  const open = new Gauge({
    name: "operations_open_exceptions",
    help: "Open items of each exception list",
    labelNames: ["kind"],
    registers: [runtime.metrics.registry],
  });
  const oldest = new Gauge({
    name: "operations_oldest_open_exception_seconds",
    help: "Age of the oldest open item of each exception list (0 when none is open)",
    labelNames: ["kind"],
    registers: [runtime.metrics.registry],
  });
  const gauges = setInterval(() => {
    exceptions
      .openByKind()
      .then((kinds) => {
        for (const k of kinds) {
          const kind = ExceptionKind[k.kind];
          open.set({ kind }, k.open);
          oldest.set({ kind }, k.oldest ? (Date.now() - k.oldest.getTime()) / 1000 : 0);
        }
      })
      .catch((error: unknown) => logger.warn({ err: error }, "exception gauges not refreshed"));
  }, config.EXCEPTION_GAUGES_MS);
  gauges.unref();
  // Channels' views compared with orders that changed, and differences raised once they last.
  let sweeping = false;
  const driftSweep = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    compareViews(deps)
      .catch((error: unknown) => logger.warn({ err: error }, "channel views not compared"))
      .finally(() => {
        sweeping = false;
      });
  }, config.DRIFT_SWEEP_MS);
  driftSweep.unref();
  const sampler = setInterval(() => {
    takeSample(deps, samples).catch((error: unknown) =>
      logger.warn({ err: error }, "status sample not taken"),
    );
  }, config.STATUS_SAMPLE_MS);
  sampler.unref();
  const served = await runtime.serve({
    consumerQueues,
    // Operations has no domain errors of its own: refusals are the requests' (INVALID_ARGUMENT).
    mapDomainError: () => undefined,
    services: [serve(OperationsService, createOperationsHandler(deps, samples))],
    stopFirst: [
      { name: "events consumer", run: () => events.close() },
      { name: "retention sweep", run: async () => clearInterval(retention) },
      { name: "erasure refresh", run: async () => clearInterval(erasureRefresh) },
      { name: "exception gauges", run: async () => clearInterval(gauges) },
      { name: "drift sweep", run: async () => clearInterval(driftSweep) },
      { name: "status sampler", run: async () => clearInterval(sampler) },
    ],
  });
  // Its own consumer's parked messages too, through its own admin RPCs like every other service's.
  adminTargets.add("operations", `http://127.0.0.1:${served.port}`);
  return { ...served, deps };
}

import { InventoryService } from "@retail/contracts/retail/inventory/v1/inventory_service_pb";
import { startWaitingEventsErasure } from "@retail/platform/amqp";
import type { Logger } from "@retail/platform/log";
import { currentCallContext } from "@retail/platform/rpc";
import { startRuntime } from "@retail/platform/runtime";
import { serve } from "@retail/platform/server";
import { createKeyedLock, openInbox, openPlanStore } from "@retail/platform/store";
import { Counter, Histogram } from "prom-client";
import {
  orderEventSchemas,
  orderEventsQueue,
  startOrderEventsConsumer,
} from "./adapters/amqp/order-events-consumer.js";
import { startReadModelFeed } from "./adapters/amqp/read-model-feed.js";
import { AvailabilityReadModel } from "./adapters/memory/availability-read-model.js";
import { createCatalog } from "./adapters/memory/catalog.js";
import { createCatalogStore } from "./adapters/mongo/catalog-store.js";
import { createChannelStockStore } from "./adapters/mongo/channel-stock-store.js";
import { createPendingTransfers } from "./adapters/mongo/pending-transfers.js";
import { createReservationStore } from "./adapters/mongo/reservation-store.js";
import { createStockLedger } from "./adapters/mongo/stock-ledger.js";
import { mapInventoryError } from "./api/error-codes.js";
import { createInventoryHandler, type InventoryDeps } from "./api/inventory-handler.js";
import { createReadModelCatchUp } from "./app/catch-up-read-model.js";
import { expireDueReservations } from "./app/change-reservation.js";
import type { FulfilmentPlan } from "./app/ports.js";
import { completePendingTransfers } from "./app/record-movement.js";
import type { InventoryConfig } from "./config.js";

/** The queue of customer events (erasures) this service consumes. */
const customerEventsQueue = "inventory.customer-events";

/**
 * The queues this service consumes (without the environment's QUEUE_PREFIX): a run that made them for
 * itself (a benchmark, the proving ground) deletes them with it.
 */
export const consumerQueues = [orderEventsQueue, customerEventsQueue] as const;

export interface RunningInventory {
  readonly port: number;
  readonly metricsPort: number;
  readonly deps: InventoryDeps;
  /** Resolves once every stored event has been published (benchmarks wait for it between phases). */
  flushOutbox(timeoutMs?: number): Promise<void>;
  /** Stops serving and background work, flushes the outbox, closes connections. */
  stop(): Promise<boolean>;
}

/**
 * The only place that knows every concrete class: connects MongoDB and RabbitMQ, builds the ledger,
 * the catalog and the read model (rebuilt from the ledger, then kept current by events), and starts
 * the RPC server, the outbox relay and the reservation expiry sweep.
 */
export async function composeInventory(config: InventoryConfig, logger: Logger): Promise<RunningInventory> {
  const runtime = await startRuntime({ name: "inventory", database: "inventory", config, logger });
  const { metrics, store, amqp } = runtime;
  const readModelLag = new Histogram({
    name: "inventory_read_model_lag_seconds",
    help: "Time from a movement being recorded to this instance's read model applying it",
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    registers: [metrics.registry],
  });
  const ledger = createStockLedger(runtime.db, store);
  // An order event's plan outlives every redelivery of it, as its inbox record does.
  const plans = await openPlanStore<FulfilmentPlan>(runtime.db, "fulfilment-plans", {
    onError: (error) => logger.warn({ err: error }, "fulfilment plan purge failed"),
  });
  const reservations = createReservationStore(runtime.db, store, plans);
  await reservations.ensureIndexes();

  const catchUpCorrections = new Counter({
    name: "inventory_read_model_catch_up_corrections_total",
    help: "Positions the read model had missed and a catch-up from the ledger corrected",
    registers: [metrics.registry],
  });

  const catalog = createCatalog();
  const catalogStore = createCatalogStore(store);
  const readModel = new AvailabilityReadModel();
  const catchUp = createReadModelCatchUp(
    { ledger, readModel },
    {
      from: new Date(),
      overlapMs: config.READ_MODEL_CATCH_UP_OVERLAP_MS,
      onDone: (corrected) => {
        if (corrected === 0) return;
        catchUpCorrections.inc(corrected);
        logger.warn({ corrected }, "read model was behind the ledger; caught up");
      },
      onError: (error) => logger.warn({ err: error }, "read model catch-up failed; the next one retries"),
    },
  );
  let built = false;
  // An operator's rebuild (AdminService.RebuildReadModel): every instance re-reads the ledger; one at a time.
  let rebuilding: Promise<void> = Promise.resolve();
  const rebuild = (readModelName: string, requestId: string) => {
    if (readModelName !== "availability") return;
    rebuilding = rebuilding.then(async () => {
      try {
        const changed = await readModel.rebuild(() => ledger.latestPositions());
        if (changed > 0) catchUpCorrections.inc(changed);
        logger.info({ requestId, positions: readModel.size, changed }, "availability read model rebuilt");
      } catch (error) {
        logger.error({ err: error, requestId }, "availability read model rebuild failed");
      }
    });
  };
  const feed = await startReadModelFeed({
    onRebuildRequested: rebuild,
    connection: amqp,
    exchange: config.EVENTS_EXCHANGE,
    readModel,
    catalog,
    logger,
    lag: readModelLag,
    // The first subscription comes before the rebuild below, which covers it.
    onSubscribed: () => {
      if (built) void catchUp.run();
    },
  });
  const { locations, rules } = await catalogStore.loadAll();
  for (const location of locations) catalog.putLocation(location);
  for (const rule of rules) catalog.putRule(rule);
  for (const position of await ledger.latestPositions()) readModel.apply(position);
  built = true;
  const catchUpTimer = setInterval(() => void catchUp.run(), config.READ_MODEL_CATCH_UP_MS);
  logger.info(
    { positions: readModel.size, locations: locations.length, rules: rules.length },
    "read model built",
  );

  const deps: InventoryDeps = {
    ledger,
    reservations,
    catalog,
    catalogStore,
    channelStock: createChannelStockStore(store),
    readModel,
    transfers: createPendingTransfers(runtime.db),
    clock: { now: () => new Date() },
    caller: () => currentCallContext()?.caller || "inventory",
    logger,
    lock: createKeyedLock(),
  };
  const purgeFailed = { onError: (error: unknown) => logger.warn({ err: error }, "inbox purge failed") };
  const orderInbox = await openInbox(runtime.db, orderEventsQueue, purgeFailed);
  const orderEvents = await startOrderEventsConsumer({
    connection: amqp,
    exchange: config.EVENTS_EXCHANGE,
    queuePrefix: config.QUEUE_PREFIX,
    deps,
    inbox: orderInbox,
    logger,
    metrics,
  });
  // Erasure reaches order events waiting here for a retry or parked for an operator.
  const erasureInbox = await openInbox(runtime.db, customerEventsQueue, purgeFailed);
  const erasures = await startWaitingEventsErasure({
    connection: amqp,
    exchange: config.EVENTS_EXCHANGE,
    queue: `${config.QUEUE_PREFIX}${customerEventsQueue}`,
    inbox: erasureInbox,
    logger,
    metrics,
    waitingQueue: `${config.QUEUE_PREFIX}${orderEventsQueue}`,
    schemas: orderEventSchemas,
  });
  const sweep = setInterval(() => {
    expireDueReservations(deps, { pendingGraceMs: config.PENDING_RESERVATION_GRACE_MS }).catch(
      (error: unknown) => logger.warn({ err: error }, "reservation sweep failed"),
    );
    completePendingTransfers(deps, { graceMs: config.PENDING_TRANSFER_GRACE_MS }).catch((error: unknown) =>
      logger.warn({ err: error }, "transfer sweep failed"),
    );
  }, config.RESERVATION_SWEEP_MS);

  const served = await runtime.serve({
    consumerQueues,
    readModels: ["availability"],
    mapDomainError: mapInventoryError,
    services: [
      serve(
        InventoryService,
        createInventoryHandler(deps, {
          defaultMs: config.RESERVATION_TTL_DEFAULT_MS,
          minMs: config.RESERVATION_TTL_MIN_MS,
          maxMs: config.RESERVATION_TTL_MAX_MS,
        }),
      ),
    ],
    stopFirst: [
      { name: "reservation sweep", run: async () => clearInterval(sweep) },
      {
        name: "order events consumer",
        run: () =>
          orderEvents.close().finally(() => {
            orderInbox.close();
            plans.close();
          }),
      },
      { name: "erasure consumer", run: () => erasures.close().finally(erasureInbox.close) },
      {
        name: "read model feed",
        run: async () => {
          clearInterval(catchUpTimer);
          await feed.close();
          await catchUp.stop();
        },
      },
    ],
  });
  return { ...served, deps, flushOutbox: runtime.flushOutbox };
}

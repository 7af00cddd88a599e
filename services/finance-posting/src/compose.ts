import { FinancePostingService } from "@retail/contracts/retail/finance/v1/finance_service_pb";
import { startWaitingEventsErasure } from "@retail/platform/amqp";
import type { Logger } from "@retail/platform/log";
import { startRuntime } from "@retail/platform/runtime";
import { serve } from "@retail/platform/server";
import { createKeyedLock, openInbox } from "@retail/platform/store";
import {
  orderEventSchemas,
  orderEventsQueue,
  startOrderEventsConsumer,
} from "./adapters/amqp/order-events-consumer.js";
import { createNetSuiteCsvAdapter } from "./adapters/erp/netsuite-csv.js";
import { createExceptions } from "./adapters/mongo/exceptions.js";
import { createExportBatches } from "./adapters/mongo/export-batches.js";
import { createFinanceEvents } from "./adapters/mongo/finance-events.js";
import { createJournal } from "./adapters/mongo/journal.js";
import { createOrderTerms } from "./adapters/mongo/order-terms.js";
import { createPeriods } from "./adapters/mongo/periods.js";
import { createSettlements } from "./adapters/mongo/settlements.js";
import { createStoreLedger } from "./adapters/mongo/store-ledger.js";
import { mapFinanceError } from "./api/error-codes.js";
import { createFinanceHandler } from "./api/finance-handler.js";
import { postStoreSummaries } from "./app/periods.js";
import type { FinanceDeps } from "./app/ports.js";
import { raiseUnsettledItems } from "./app/unsettled-items.js";
import type { FinanceConfig } from "./config.js";

/** The queue of customer events (erasures) this service consumes. */
const customerEventsQueue = "finance.customer-events";

/**
 * The queues this service consumes (without the environment's QUEUE_PREFIX): a run that made them for
 * itself (a benchmark, the proving ground) deletes them with it.
 */
export const consumerQueues = [orderEventsQueue, customerEventsQueue] as const;

export interface RunningFinance {
  readonly port: number;
  readonly metricsPort: number;
  readonly deps: FinanceDeps;
  flushOutbox(timeoutMs?: number): Promise<void>;
  stop(): Promise<boolean>;
}

/**
 * The only place that knows every concrete class: MongoDB and RabbitMQ, the journal and its
 * companions, the order-events consumer, the ERP adapters, the RPC server, the outbox relay and the
 * sweep that posts each store's finished days as summaries.
 */
export async function composeFinance(config: FinanceConfig, logger: Logger): Promise<RunningFinance> {
  const runtime = await startRuntime({
    name: "finance-posting",
    database: "finance_posting",
    config,
    logger,
  });
  const journal = createJournal(runtime.db, runtime.store);
  const stores = createStoreLedger(runtime.db);
  const exceptions = createExceptions(runtime.db);
  await Promise.all([journal.ensureIndexes(), stores.ensureIndexes(), exceptions.ensureIndexes()]);
  const erp = createNetSuiteCsvAdapter({
    directory: config.ERP_EXPORT_DIR,
    maxEntries: config.ERP_BATCH_MAX_ENTRIES,
    ratePerMinute: config.ERP_BATCHES_PER_MINUTE,
    strandedAfterMs: config.ERP_STRANDED_BATCH_MS,
  });
  const deps: FinanceDeps = {
    rules: config.POSTING_RULES,
    journal,
    stores,
    terms: createOrderTerms(runtime.db),
    periods: createPeriods(runtime.db),
    settlements: createSettlements(runtime.db),
    exceptions,
    exports: createExportBatches(runtime.db),
    erp: new Map([[erp.name, erp]]),
    events: createFinanceEvents(runtime.store),
    clock: { now: () => new Date() },
    logger,
    lock: createKeyedLock(),
  };
  const purgeFailed = { onError: (error: unknown) => logger.warn({ err: error }, "inbox purge failed") };
  const inbox = await openInbox(runtime.db, orderEventsQueue, purgeFailed);
  const orderEvents = await startOrderEventsConsumer({
    connection: runtime.amqp,
    exchange: config.EVENTS_EXCHANGE,
    queuePrefix: config.QUEUE_PREFIX,
    deps,
    inbox,
    logger,
    metrics: runtime.metrics,
  });
  // Erasure reaches order events waiting here for a retry or parked for an operator.
  const erasureInbox = await openInbox(runtime.db, customerEventsQueue, purgeFailed);
  const erasures = await startWaitingEventsErasure({
    connection: runtime.amqp,
    exchange: config.EVENTS_EXCHANGE,
    queue: `${config.QUEUE_PREFIX}${customerEventsQueue}`,
    inbox: erasureInbox,
    logger,
    metrics: runtime.metrics,
    waitingQueue: `${config.QUEUE_PREFIX}${orderEventsQueue}`,
    schemas: orderEventSchemas,
  });
  const sweep = setInterval(() => {
    postStoreSummaries(deps, deps.clock.now().toISOString().slice(0, 10)).catch((error: unknown) =>
      logger.warn({ err: error }, "store summaries failed"),
    );
  }, config.SUMMARY_SWEEP_MS);
  const unsettledSweep = setInterval(() => {
    raiseUnsettledItems(deps, { graceDays: config.SETTLEMENT_GRACE_DAYS }).catch((error: unknown) =>
      logger.warn({ err: error }, "unsettled items sweep failed"),
    );
  }, config.UNSETTLED_SWEEP_MS);

  const served = await runtime.serve({
    consumerQueues,
    mapDomainError: mapFinanceError,
    services: [serve(FinancePostingService, createFinanceHandler(deps))],
    stopFirst: [
      { name: "unsettled items sweep", run: async () => clearInterval(unsettledSweep) },
      { name: "summary sweep", run: async () => clearInterval(sweep) },
      { name: "order events consumer", run: () => orderEvents.close().finally(inbox.close) },
      { name: "erasure consumer", run: () => erasures.close().finally(erasureInbox.close) },
    ],
  });
  return { ...served, deps, flushOutbox: runtime.flushOutbox };
}

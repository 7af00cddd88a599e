import { randomUUID } from "node:crypto";
import { FinancePostingService } from "@retail/contracts/retail/finance/v1/finance_service_pb";
import { connectAmqp, createEventPublisher } from "@retail/platform/amqp";
import type { Logger } from "@retail/platform/log";
import { createMetrics, startMetricsServer } from "@retail/platform/metrics";
import { createRpcServer, createShutdown, serve } from "@retail/platform/server";
import {
  connectMongo,
  createInbox,
  createKeyedLock,
  createOutboxRelay,
  createStreamStore,
  startInboxJanitor,
} from "@retail/platform/store";
import { orderEventsQueue, startOrderEventsConsumer } from "./adapters/amqp/order-events-consumer.js";
import { createNetSuiteCsvAdapter } from "./adapters/erp/netsuite-csv.js";
import { createJournal } from "./adapters/mongo/journal.js";
import {
  createExceptions,
  createExportBatches,
  createFinanceEvents,
  createOrderTerms,
  createPeriods,
  createSettlements,
  createStoreLedger,
} from "./adapters/mongo/ledger-stores.js";
import { mapFinanceError } from "./api/error-codes.js";
import { createFinanceHandler } from "./api/finance-handler.js";
import { postStoreSummaries } from "./app/periods.js";
import type { FinanceDeps } from "./app/ports.js";
import type { FinanceConfig } from "./config.js";

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
  const metrics = createMetrics("finance_posting");
  const mongo = await connectMongo(config.MONGODB_URL, config.MONGODB_DATABASE ?? "finance_posting");
  const store = createStreamStore(mongo.db);
  const journal = createJournal(mongo.db, store);
  const stores = createStoreLedger(mongo.db);
  const exceptions = createExceptions(mongo.db);
  await Promise.all([
    store.ensureIndexes(),
    journal.ensureIndexes(),
    stores.ensureIndexes(),
    exceptions.ensureIndexes(),
  ]);
  const erp = createNetSuiteCsvAdapter({
    directory: config.ERP_EXPORT_DIR,
    maxEntries: config.ERP_BATCH_MAX_ENTRIES,
    ratePerMinute: config.ERP_BATCHES_PER_MINUTE,
  });
  const deps: FinanceDeps = {
    rules: config.POSTING_RULES,
    journal,
    stores,
    terms: createOrderTerms(mongo.db),
    periods: createPeriods(mongo.db),
    settlements: createSettlements(mongo.db),
    exceptions,
    exports: createExportBatches(mongo.db),
    erp: new Map([[erp.name, erp]]),
    events: createFinanceEvents(store),
    clock: { now: () => new Date() },
    logger,
    lock: createKeyedLock(),
  };
  const amqp = connectAmqp(config.AMQP_URL, { name: `finance-${randomUUID().slice(0, 8)}`, logger });
  const publisher = createEventPublisher(amqp, {
    source: "finance-posting",
    exchange: config.EVENTS_EXCHANGE,
  });
  const relay = createOutboxRelay({ store, publisher, logger, metrics });
  relay.start();
  const inbox = createInbox(mongo.db, orderEventsQueue);
  await inbox.ensureIndexes();
  const stopJanitor = startInboxJanitor(inbox, {
    onError: (error) => logger.warn({ err: error }, "inbox purge failed"),
  });
  const orderEvents = await startOrderEventsConsumer({
    connection: amqp,
    exchange: config.EVENTS_EXCHANGE,
    queuePrefix: config.QUEUE_PREFIX,
    deps,
    inbox,
    logger,
    metrics,
  });
  const sweep = setInterval(() => {
    postStoreSummaries(deps, deps.clock.now().toISOString().slice(0, 10)).catch((error: unknown) =>
      logger.warn({ err: error }, "store summaries failed"),
    );
  }, config.SUMMARY_SWEEP_MS);

  const server = createRpcServer({
    name: "finance-posting",
    port: config.PORT,
    logger,
    metrics,
    mapDomainError: mapFinanceError,
    services: [serve(FinancePostingService, createFinanceHandler(deps))],
  });
  await server.start();
  const metricsServer = await startMetricsServer(metrics.registry, config.METRICS_PORT);
  const stop = createShutdown(logger, [
    { name: "rpc server", run: () => server.stop(config.SHUTDOWN_GRACE_MS) },
    { name: "summary sweep", run: async () => clearInterval(sweep) },
    { name: "order events consumer", run: () => orderEvents.close().finally(stopJanitor) },
    { name: "outbox flush", run: () => relay.flush(config.SHUTDOWN_GRACE_MS).finally(() => relay.stop()) },
    { name: "publisher", run: () => publisher.close() },
    { name: "amqp", run: () => amqp.close() },
    { name: "metrics", run: () => metricsServer.close() },
    { name: "mongodb", run: () => mongo.close() },
  ]);
  return {
    port: server.port,
    metricsPort: metricsServer.port,
    deps,
    flushOutbox: (t) => relay.flush(t),
    stop,
  };
}

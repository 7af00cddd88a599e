import type { DescMethod, Message } from "@bufbuild/protobuf";
import { CustomerIdentityService } from "@retail/contracts/retail/customer/v1/customer_service_pb";
import { DeliveryService } from "@retail/contracts/retail/delivery/v1/delivery_service_pb";
import { FinancePostingService } from "@retail/contracts/retail/finance/v1/finance_service_pb";
import { InboundJournalService } from "@retail/contracts/retail/inbound/v1/inbound_service_pb";
import { InventoryService } from "@retail/contracts/retail/inventory/v1/inventory_service_pb";
import { OperationsService } from "@retail/contracts/retail/operations/v1/operations_service_pb";
import { OrderService } from "@retail/contracts/retail/order/v1/order_service_pb";
import { connectAmqp, startErasureConsumer } from "@retail/platform/amqp";
import type { Logger } from "@retail/platform/log";
import { createMetrics, startMetricsServer } from "@retail/platform/metrics";
import { createShutdown } from "@retail/platform/server";
import { connectMongo, openInbox } from "@retail/platform/store";
import { startTelemetry } from "@retail/platform/telemetry";
import { Counter } from "prom-client";
import { watchClientsFile } from "./access/clients.js";
import { createRateLimiter, createSharedRateLimiter } from "./access/rate-limit.js";
import { createBackends } from "./adapters/backends.js";
import { createIdempotencyStore } from "./adapters/idempotency-store.js";
import { createInboundJournal } from "./adapters/inbound-journal.js";
import { createShopifyItemSkus } from "./adapters/shopify-item-skus.js";
import type { GatewayConfig } from "./config.js";
import { loadConsoleAssets } from "./http/console-assets.js";
import { createInboundJournalTransport } from "./http/inbound-journal-service.js";
import { startGatewayServer } from "./http/server.js";
import { loadDocsAssets } from "./openapi/docs-page.js";
import { createRouteTable } from "./transcoding/route-table.js";

export interface RunningGateway {
  readonly port: number;
  readonly metricsPort: number;
  stop(): Promise<boolean>;
}

/** The gateway's queue of customer events (erasures). */
export const customerEventsQueue = "gateway.customer-events";

/** The queues the gateway consumes (without QUEUE_PREFIX), for runs that delete theirs. */
export const consumerQueues = [customerEventsQueue] as const;

/** The services the gateway calls, each with the variable of its address. */
export const remoteServices = [
  [CustomerIdentityService, "CUSTOMER_IDENTITY_URL"],
  [InventoryService, "INVENTORY_URL"],
  [OrderService, "ORDER_URL"],
  [FinancePostingService, "FINANCE_POSTING_URL"],
  [DeliveryService, "DELIVERY_URL"],
  [OperationsService, "OPERATIONS_URL"],
] as const;

/** The services whose routes the gateway serves (and its OpenAPI document describes): the remote ones and its own. */
export const gatewayServices = [...remoteServices.map(([service]) => service), InboundJournalService];

/** Where the generated OpenAPI document lives (gateway/openapi, from src/ or dist/ alike). */
export const openapiDocument = new URL("../openapi/openapi.json", import.meta.url);

/**
 * The only place that knows every concrete class: the route table from the services' descriptors, the
 * services' transports, the clients file, the Idempotency-Key store, the HTTP and metrics servers.
 */
export async function composeGateway(config: GatewayConfig, logger: Logger): Promise<RunningGateway> {
  const telemetry = startTelemetry("gateway");
  const metrics = createMetrics("gateway");
  const backendList = remoteServices.map(([service, variable]) => ({ service, baseUrl: config[variable] }));
  const routes = createRouteTable(gatewayServices);
  const reloads = new Counter({
    name: "gateway_clients_file_reloads_total",
    help: "Changes of the clients file, by outcome (applied, or ignored because invalid)",
    labelNames: ["outcome"],
    registers: [metrics.registry],
  });
  const clients = watchClientsFile(config.GATEWAY_CLIENTS_FILE, logger, (outcome) =>
    reloads.inc({ outcome }),
  );
  const mongo = await connectMongo(
    config.MONGODB_URL,
    config.MONGODB_DATABASE ?? "gateway",
    (command, collection) => metrics.mongoCommands.inc({ command, collection }),
    logger,
  );
  const journal = createInboundJournal(mongo.db);
  await journal.ensureIndexes();
  // The journal's service is the gateway's own, served in process; replays call back into the rest.
  const journalTransport = createInboundJournalTransport(journal, () => rest);
  const backends = createBackends(backendList, config.REQUEST_TIMEOUT_MS, config.MESH_SERVICE_KEYS, [
    { service: InboundJournalService, transport: journalTransport },
  ]);
  const idempotency = createIdempotencyStore(mongo.db, {
    staleAfterMs: config.IDEMPOTENCY_STALE_MS,
    retentionMs: config.IDEMPOTENCY_RETENTION_MS,
  });
  // Erasure reaches the answers kept for Idempotency-Key replays.
  const erasureInbox = await openInbox(mongo.db, customerEventsQueue, {
    onError: (error) => logger.warn({ err: error }, "inbox purge failed"),
  });
  const amqp = connectAmqp(config.AMQP_URL, { name: "gateway", logger });
  const erasures = await startErasureConsumer({
    connection: amqp,
    queue: `${config.QUEUE_PREFIX}${customerEventsQueue}`,
    exchange: config.EVENTS_EXCHANGE,
    inbox: erasureInbox,
    logger,
    metrics,
    async erase(customerId) {
      const dropped = await idempotency.forgetAnswersNaming(customerId);
      const emptied = await journal.eraseCustomer(customerId, new Date());
      logger.info(
        { customerId, dropped, emptied },
        "erased a customer from stored answers and the inbound journal",
      );
    },
  });
  const purge = setInterval(() => {
    idempotency.purge().catch((error: unknown) => logger.warn({ err: error }, "idempotency purge failed"));
    journal
      .forget(new Date(Date.now() - config.INBOUND_JOURNAL_RETENTION_DAYS * 86_400_000))
      .catch((error: unknown) => logger.warn({ err: error }, "inbound journal purge failed"));
  }, 3_600_000);
  purge.unref();
  const limiter = config.RATE_LIMIT_REDIS_URL
    ? await createSharedRateLimiter(config.RATE_LIMIT_REDIS_URL, logger)
    : createRateLimiter();
  const rest = {
    routes,
    clients,
    limiter,
    idempotency,
    maxBodyBytes: config.MAX_BODY_BYTES,
    maxStreamedBytes: config.IMPORT_MAX_BYTES,
    importTimeoutMs: config.IMPORT_TIMEOUT_MS,
    importPartLines: config.IMPORT_PART_LINES,
    shopifyItems: createShopifyItemSkus(mongo.db),
    invoke: (method: DescMethod, request: Message, signal: AbortSignal, timeoutMs?: number) =>
      backends.invoke(method, request, { timeoutMs: timeoutMs ?? config.REQUEST_TIMEOUT_MS, signal }),
  };
  const server = await startGatewayServer({
    port: config.PORT,
    journal,
    logger,
    registry: metrics.registry,
    // A large file's upload and import run past the deadline of a REST call.
    requestTimeoutMs: Math.max(config.REQUEST_TIMEOUT_MS, config.IMPORT_TIMEOUT_MS),
    openapiPath: openapiDocument,
    docs: loadDocsAssets(),
    console: loadConsoleAssets(),
    corsOrigins: config.CORS_ORIGINS,
    maxInFlight: config.MAX_IN_FLIGHT,
    rest,
    readiness: async () => {
      const storage = await mongo.db
        .command({ ping: 1 })
        .then(() => "SERVING")
        .catch(() => "UNREACHABLE");
      return { ...(await backends.health(1_000)), "gateway.idempotency-store": storage };
    },
  });
  const metricsServer = await startMetricsServer(metrics.registry, config.METRICS_PORT);
  logger.info({ routes: routes.routes.length }, "routes built from the contracts");
  const stop = createShutdown(logger, [
    { name: "http server", run: () => server.close(config.SHUTDOWN_GRACE_MS) },
    {
      name: "erasure consumer",
      run: () =>
        erasures
          .close()
          .then(() => amqp.close())
          .finally(erasureInbox.close),
    },
    { name: "idempotency purge", run: async () => clearInterval(purge) },
    { name: "clients file watch", run: async () => clients.close() },
    { name: "rate limiter", run: () => limiter.close() },
    { name: "metrics", run: () => metricsServer.close() },
    { name: "mongodb", run: () => mongo.close() },
    ...(telemetry ? [{ name: "telemetry", run: () => telemetry.shutdown() }] : []),
  ]);
  return { port: server.port, metricsPort: metricsServer.port, stop };
}

import { randomUUID } from "node:crypto";
import { CustomerIdentityService } from "@retail/contracts/retail/customer/v1/customer_service_pb";
import { InventoryService } from "@retail/contracts/retail/inventory/v1/inventory_service_pb";
import { OrderService } from "@retail/contracts/retail/order/v1/order_service_pb";
import { connectAmqp, createEventPublisher } from "@retail/platform/amqp";
import type { Logger } from "@retail/platform/log";
import { createMetrics, startMetricsServer } from "@retail/platform/metrics";
import { createServiceClient } from "@retail/platform/rpc";
import { createRpcServer, createShutdown, serve } from "@retail/platform/server";
import {
  connectMongo,
  createInbox,
  createKeyedLock,
  createOutboxRelay,
  createStreamStore,
  startInboxJanitor,
} from "@retail/platform/store";
import {
  customerEventsQueue,
  startCustomerEventsConsumer,
} from "./adapters/amqp/customer-events-consumer.js";
import { createOrderStreams } from "./adapters/mongo/order-streams.js";
import { createOrderViews } from "./adapters/mongo/order-views.js";
import { createPendingSagas } from "./adapters/mongo/pending-sagas.js";
import { createCustomerDirectory } from "./adapters/rpc/customer-directory.js";
import { createStockReservations } from "./adapters/rpc/stock-reservations.js";
import { createTaxTable } from "./adapters/tax-table.js";
import { mapOrderError } from "./api/error-codes.js";
import { createOrderHandler } from "./api/order-handler.js";
import type { OrderDeps } from "./app/ports.js";
import { cancelUncollected, resumePendingOrders } from "./app/sweeps.js";
import type { OrderConfig } from "./config.js";

export interface RunningOrder {
  readonly port: number;
  readonly metricsPort: number;
  readonly deps: OrderDeps;
  flushOutbox(timeoutMs?: number): Promise<void>;
  stop(): Promise<boolean>;
}

/**
 * The only place that knows every concrete class: MongoDB, RabbitMQ, clients of customer-identity and
 * inventory, the order streams and read model, the RPC server, the outbox relay and the sweeps that
 * resume interrupted sagas and cancel uncollected pickups.
 */
export async function composeOrder(config: OrderConfig, logger: Logger): Promise<RunningOrder> {
  const metrics = createMetrics("order");
  const mongo = await connectMongo(config.MONGODB_URL, config.MONGODB_DATABASE ?? "order");
  const store = createStreamStore(mongo.db);
  const views = createOrderViews(mongo.db);
  await Promise.all([store.ensureIndexes(), views.ensureIndexes()]);
  const peers = { timeoutMs: config.PEER_TIMEOUT_MS };
  const deps: OrderDeps = {
    streams: createOrderStreams(store),
    views,
    sagas: createPendingSagas(mongo.db),
    customers: createCustomerDirectory(
      createServiceClient(CustomerIdentityService, { baseUrl: config.CUSTOMER_IDENTITY_URL, ...peers }),
    ),
    stock: createStockReservations(
      createServiceClient(InventoryService, { baseUrl: config.INVENTORY_URL, ...peers }),
    ),
    taxes: createTaxTable(config.TAX_RATES, config.LOCATION_JURISDICTIONS),
    clock: { now: () => new Date() },
    logger,
    lock: createKeyedLock(),
  };
  const amqp = connectAmqp(config.AMQP_URL, { name: `order-${randomUUID().slice(0, 8)}`, logger });
  const publisher = createEventPublisher(amqp, { source: "order", exchange: config.EVENTS_EXCHANGE });
  const relay = createOutboxRelay({ store, publisher, logger, metrics });
  relay.start();
  const customerInbox = createInbox(mongo.db, customerEventsQueue);
  await customerInbox.ensureIndexes();
  const stopJanitor = startInboxJanitor(customerInbox, {
    onError: (error) => logger.warn({ err: error }, "inbox purge failed"),
  });
  const customerEvents = await startCustomerEventsConsumer({
    connection: amqp,
    exchange: config.EVENTS_EXCHANGE,
    queuePrefix: config.QUEUE_PREFIX,
    views,
    inbox: customerInbox,
    logger,
    metrics,
  });
  let sweeping = false;
  const sweep = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    Promise.all([resumePendingOrders(deps, config.PENDING_GRACE_MS), cancelUncollected(deps)])
      .catch((error: unknown) => logger.warn({ err: error }, "order sweep failed"))
      .finally(() => {
        sweeping = false;
      });
  }, config.SWEEP_MS);

  const server = createRpcServer({
    name: "order",
    port: config.PORT,
    logger,
    metrics,
    mapDomainError: mapOrderError,
    services: [
      serve(OrderService, createOrderHandler(deps, { pickupHoldMs: config.PICKUP_HOLD_HOURS * 3_600_000 })),
    ],
  });
  await server.start();
  const metricsServer = await startMetricsServer(metrics.registry, config.METRICS_PORT);
  const stop = createShutdown(logger, [
    { name: "rpc server", run: () => server.stop(config.SHUTDOWN_GRACE_MS) },
    { name: "sweeps", run: async () => clearInterval(sweep) },
    { name: "customer events consumer", run: () => customerEvents.close().finally(stopJanitor) },
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

import { CustomerIdentityService } from "@retail/contracts/retail/customer/v1/customer_service_pb";
import { InventoryService } from "@retail/contracts/retail/inventory/v1/inventory_service_pb";
import { OrderService } from "@retail/contracts/retail/order/v1/order_service_pb";
import type { Logger } from "@retail/platform/log";
import { createServiceClient, currentCallContext } from "@retail/platform/rpc";
import { startRuntime } from "@retail/platform/runtime";
import { serve } from "@retail/platform/server";
import { createKeyedLock, everyPage, openInbox, openPlanStore } from "@retail/platform/store";
import {
  customerEventsQueue,
  startCustomerEventsConsumer,
} from "./adapters/amqp/customer-events-consumer.js";
import {
  locationEventsQueue,
  startLocationEventsConsumer,
} from "./adapters/amqp/location-events-consumer.js";
import { defaultTaxRates } from "./adapters/default-tax-rates.js";
import { createTaxJarEngine } from "./adapters/http/taxjar.js";
import { createLocationDirectory } from "./adapters/mongo/location-directory.js";
import { createOrderStreams } from "./adapters/mongo/order-streams.js";
import { createOrderViews } from "./adapters/mongo/order-views.js";
import { createPendingSagas } from "./adapters/mongo/pending-sagas.js";
import { createTaxRateStreams } from "./adapters/mongo/tax-rate-streams.js";
import { createCustomerDirectory } from "./adapters/rpc/customer-directory.js";
import { createStockReservations } from "./adapters/rpc/stock-reservations.js";
import { mapOrderError } from "./api/error-codes.js";
import { createOrderHandler } from "./api/order-handler.js";
import { eraseCustomerOrders } from "./app/erase-customer.js";
import type { OrderDeps } from "./app/ports.js";
import { cancelUncollected, resumePendingOrders } from "./app/sweeps.js";
import { seedTaxRates } from "./app/tax-rates.js";
import type { OrderConfig } from "./config.js";

/**
 * The queues this service consumes (without the environment's QUEUE_PREFIX): a run that made them for
 * itself (a benchmark, the proving ground) deletes them with it.
 */
export const consumerQueues = [customerEventsQueue, locationEventsQueue] as const;

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
  const runtime = await startRuntime({ name: "order", database: "order", config, logger });
  const views = createOrderViews(runtime.db);
  await views.ensureIndexes();
  const peers = {
    timeoutMs: config.PEER_TIMEOUT_MS,
    caller: "order",
    peerAuth: { keys: config.MESH_SERVICE_KEYS, service: "order" },
  };
  const inventory = createServiceClient(InventoryService, { baseUrl: config.INVENTORY_URL, ...peers });
  const locations = createLocationDirectory(runtime.db, () =>
    everyPage(async (pageToken) => {
      const page = await inventory.listLocations({ pageSize: 500, pageToken });
      return { items: page.locations, nextPageToken: page.nextPageToken };
    }),
  );
  // A change's plan outlives every retry of its request (a week, as an inbox record).
  const plans = await openPlanStore<unknown>(runtime.db, "change-plans", {
    onError: (error) => logger.warn({ err: error }, "change plan purge failed"),
  });
  const deps: OrderDeps = {
    streams: createOrderStreams(runtime.store),
    views,
    sagas: createPendingSagas(runtime.db),
    customers: createCustomerDirectory(
      createServiceClient(CustomerIdentityService, { baseUrl: config.CUSTOMER_IDENTITY_URL, ...peers }),
    ),
    stock: createStockReservations(inventory, { pendingHoldMs: config.PENDING_HOLD_MS }),
    taxRates: createTaxRateStreams(runtime.db, runtime.store),
    ...(config.TAX_ENGINE_URL
      ? {
          taxEngine: createTaxJarEngine({
            baseUrl: config.TAX_ENGINE_URL,
            apiToken: config.TAX_ENGINE_TOKEN,
            timeoutMs: config.TAX_ENGINE_TIMEOUT_MS,
            fallback: config.TAX_ENGINE_FALLBACK,
          }),
        }
      : {}),
    locations,
    clock: { now: () => new Date() },
    plans,
    caller: () => currentCallContext()?.caller || "order",
    logger,
    lock: createKeyedLock(),
  };
  await seedTaxRates(deps, defaultTaxRates);
  const purgeFailed = { onError: (error: unknown) => logger.warn({ err: error }, "inbox purge failed") };
  const customerInbox = await openInbox(runtime.db, customerEventsQueue, purgeFailed);
  const customerEvents = await startCustomerEventsConsumer({
    connection: runtime.amqp,
    exchange: config.EVENTS_EXCHANGE,
    queuePrefix: config.QUEUE_PREFIX,
    views,
    erase: (customerId) => eraseCustomerOrders(deps, customerId),
    inbox: customerInbox,
    logger,
    metrics: runtime.metrics,
  });
  const locationInbox = await openInbox(runtime.db, locationEventsQueue, purgeFailed);
  const locationEvents = await startLocationEventsConsumer({
    connection: runtime.amqp,
    exchange: config.EVENTS_EXCHANGE,
    queuePrefix: config.QUEUE_PREFIX,
    locations,
    inbox: locationInbox,
    logger,
    metrics: runtime.metrics,
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

  const served = await runtime.serve({
    consumerQueues,
    mapDomainError: mapOrderError,
    services: [
      serve(OrderService, createOrderHandler(deps, { pickupHoldMs: config.PICKUP_HOLD_HOURS * 3_600_000 })),
    ],
    stopFirst: [
      {
        name: "sweeps",
        run: async () => {
          clearInterval(sweep);
          plans.close();
        },
      },
      { name: "customer events consumer", run: () => customerEvents.close().finally(customerInbox.close) },
      { name: "location events consumer", run: () => locationEvents.close().finally(locationInbox.close) },
    ],
  });
  return { ...served, deps, flushOutbox: runtime.flushOutbox };
}

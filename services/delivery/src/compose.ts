import type { DescMessage } from "@bufbuild/protobuf";
import { DeliveryService } from "@retail/contracts/retail/delivery/v1/delivery_service_pb";
import { startWaitingEventsErasure } from "@retail/platform/amqp";
import { domainEvents, redactEvent } from "@retail/platform/domain-events";
import type { Logger } from "@retail/platform/log";
import { startRuntime } from "@retail/platform/runtime";
import { serve } from "@retail/platform/server";
import { openInbox } from "@retail/platform/store";
import { Counter, Histogram } from "prom-client";
import { startDomainEventsConsumer } from "./adapters/amqp/domain-events-consumer.js";
import { createQueueBindings } from "./adapters/amqp/queue-bindings.js";
import { createRenderer } from "./adapters/formats/renderer.js";
import { createWebhookSender } from "./adapters/http/webhook-sender.js";
import { startSubscriptionCache } from "./adapters/memory/subscription-cache.js";
import { createAggregateFacts } from "./adapters/mongo/aggregate-facts.js";
import { createControlNumbers } from "./adapters/mongo/control-numbers.js";
import { createDeliveryStore } from "./adapters/mongo/delivery-store.js";
import { createErasures } from "./adapters/mongo/erasures.js";
import { createLeases } from "./adapters/mongo/leases.js";
import { createSecretStore } from "./adapters/mongo/secret-store.js";
import { createSubscriptionStore } from "./adapters/mongo/subscription-store.js";
import { createDeliveryHandler } from "./api/delivery-handler.js";
import { mapDeliveryError } from "./api/error-codes.js";
import { bindingsFor } from "./app/bindings.js";
import { startDispatcher } from "./app/dispatcher.js";
import type { DeliveryDeps } from "./app/ports.js";
import type { DeliveryConfig } from "./config.js";

const domainEventsQueue = "delivery.domain-events";
const customerEventsQueue = "delivery.customer-events";

/** The queues this service consumes (without the environment's QUEUE_PREFIX). */
export const consumerQueues = [domainEventsQueue, customerEventsQueue] as const;

export interface RunningDelivery {
  readonly port: number;
  readonly metricsPort: number;
  readonly deps: DeliveryDeps;
  flushOutbox(timeoutMs?: number): Promise<void>;
  stop(): Promise<boolean>;
}

/**
 * The only place that knows every concrete class: MongoDB and RabbitMQ, the subscription streams and
 * their cache, the deliveries, the consumer of every domain's events, the dispatcher and the RPC server.
 */
export async function composeDelivery(config: DeliveryConfig, logger: Logger): Promise<RunningDelivery> {
  const runtime = await startRuntime({ name: "delivery", database: "delivery", config, logger });
  const deliveries = createDeliveryStore(runtime.db);
  await deliveries.ensureIndexes();
  const erasures = createErasures(runtime.db);
  const controlNumbers = createControlNumbers(runtime.db);
  await controlNumbers.ensureIndexes();
  const subscriptions = createSubscriptionStore(runtime.store);
  const queue = `${config.QUEUE_PREFIX}${domainEventsQueue}`;
  const queueBindings = createQueueBindings({
    connection: runtime.amqp,
    db: runtime.db,
    queue,
    exchange: config.EVENTS_EXCHANGE,
    logger,
  });
  // The queue's bindings follow the subscriptions (the consumer below declares the first ones).
  let consuming = false;
  const cache = await startSubscriptionCache(subscriptions, config.SUBSCRIPTION_REFRESH_MS, logger, (all) =>
    consuming ? queueBindings.sync(bindingsFor(all)) : undefined,
  );
  const deps: DeliveryDeps = {
    subscriptions,
    cache,
    secrets: createSecretStore(runtime.db),
    deliveries,
    facts: createAggregateFacts(runtime.db),
    clock: { now: () => new Date() },
    logger,
    factsWaitMs: config.DELIVERY_FACTS_WAIT_MS,
    settleMs: config.DELIVERY_SETTLE_MS,
  };
  const attempts = new Counter({
    name: "webhook_delivery_attempts_total",
    help: "Webhook delivery attempts by subscription and outcome (delivered, retry, dead)",
    labelNames: ["subscription", "outcome"],
    registers: [runtime.metrics.registry],
  });
  const latency = new Histogram({
    name: "webhook_delivery_duration_seconds",
    help: "How long subscribers' endpoints took to answer a delivery (or to time out)",
    labelNames: ["subscription"],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [runtime.metrics.registry],
  });
  const dispatcher = startDispatcher(
    {
      ...deps,
      renderer: createRenderer(deliveries, controlNumbers, erasures),
      sender: createWebhookSender({
        timeoutMs: config.DELIVERY_TIMEOUT_MS,
        userAgent: "retail-mesh-delivery/0.1",
      }),
      retryScheduleMs: config.DELIVERY_RETRY_SCHEDULE_MS,
      random: Math.random,
      onAttempt: (subscription, outcome, seconds) => {
        attempts.inc({ subscription, outcome });
        latency.observe({ subscription }, seconds);
      },
      leases: createLeases(runtime.db, config.DELIVERY_LEASE_MS),
    },
    {
      pollMs: config.DELIVERY_POLL_MS,
      passMs: config.DELIVERY_LEASE_MS / 3,
      batch: 500,
      concurrency: config.DELIVERY_CONCURRENCY,
    },
  );
  const events = await startDomainEventsConsumer(
    {
      connection: runtime.amqp,
      exchange: config.EVENTS_EXCHANGE,
      queue,
      bindings: bindingsFor(cache.current()),
      metrics: runtime.metrics,
      erasures,
    },
    deps,
    dispatcher.wake,
  );
  const purgeFailed = { onError: (error: unknown) => logger.warn({ err: error }, "inbox purge failed") };
  // Erasure also reaches events waiting in this service's retry and parking queues.
  const erasureInbox = await openInbox(runtime.db, customerEventsQueue, purgeFailed);
  const waitingErasures = await startWaitingEventsErasure({
    connection: runtime.amqp,
    exchange: config.EVENTS_EXCHANGE,
    queue: `${config.QUEUE_PREFIX}${customerEventsQueue}`,
    inbox: erasureInbox,
    logger,
    metrics: runtime.metrics,
    waitingQueue: `${config.QUEUE_PREFIX}${domainEventsQueue}`,
    schemas: [...domainEvents].filter((d): d is DescMessage => d.kind === "message"),
  });
  const retention = setInterval(() => {
    const before = new Date(Date.now() - config.DELIVERY_RETENTION_DAYS * 86_400_000);
    deliveries
      .forgetDelivered(before)
      .then(
        (forgotten) =>
          forgotten > 0 && logger.info({ forgotten, before }, "delivered deliveries past retention removed"),
      )
      .catch((error: unknown) => logger.warn({ err: error }, "retention sweep failed"));
  }, 3_600_000);
  retention.unref();
  // Erasures of the last week applied again: a write lost to a concurrent update comes back here.
  const erasureSweep = setInterval(() => {
    erasures
      .since(new Date(Date.now() - 7 * 86_400_000))
      .then(async (customerIds) => {
        for (const customerId of customerIds) await deliveries.eraseCustomer(customerId, redactEvent);
      })
      .catch((error: unknown) => logger.warn({ err: error }, "erasure sweep failed"));
  }, config.DELIVERY_ERASURE_SWEEP_MS);
  erasureSweep.unref();
  consuming = true;
  await queueBindings.sync(bindingsFor(cache.current()));
  const served = await runtime.serve({
    consumerQueues,
    mapDomainError: mapDeliveryError,
    services: [serve(DeliveryService, createDeliveryHandler(deps))],
    stopFirst: [
      { name: "domain events consumer", run: () => events.close() },
      { name: "erasure consumer", run: () => waitingErasures.close().finally(erasureInbox.close) },
      { name: "dispatcher", run: () => dispatcher.stop() },
      { name: "retention sweep", run: async () => clearInterval(retention) },
      { name: "erasure sweep", run: async () => clearInterval(erasureSweep) },
      { name: "subscription cache", run: async () => cache.stop() },
    ],
  });
  return { ...served, deps, flushOutbox: runtime.flushOutbox };
}

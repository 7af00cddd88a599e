import { randomUUID } from "node:crypto";
import { CustomerIdentityService } from "@retail/contracts/retail/customer/v1/customer_service_pb";
import { connectAmqp, createEventPublisher } from "@retail/platform/amqp";
import type { Logger } from "@retail/platform/log";
import { createMetrics, startMetricsServer } from "@retail/platform/metrics";
import { createRpcServer, createShutdown, serve } from "@retail/platform/server";
import { connectMongo, createOutboxRelay, createStreamStore } from "@retail/platform/store";
import { createCustomerStreams } from "./adapters/mongo/customer-streams.js";
import { createMatchKeyIndex } from "./adapters/mongo/match-key-index.js";
import { createMergeCandidateStore } from "./adapters/mongo/merge-candidate-store.js";
import { createCustomerHandler } from "./api/customer-handler.js";
import { mapCustomerError } from "./api/error-codes.js";
import type { CustomerDeps } from "./app/ports.js";
import type { CustomerConfig } from "./config.js";
import type { SourceSystem } from "./domain/source-systems.js";

export interface RunningCustomerIdentity {
  readonly port: number;
  readonly metricsPort: number;
  readonly deps: CustomerDeps;
  /** Resolves once every stored event has been published. */
  flushOutbox(timeoutMs?: number): Promise<void>;
  /** Stops serving, flushes the outbox, closes connections. */
  stop(): Promise<boolean>;
}

/**
 * The only place that knows every concrete class: connects MongoDB and RabbitMQ, builds the customer
 * streams, the match-key index and the merge candidates, and starts the RPC server and outbox relay.
 */
export async function composeCustomerIdentity(
  config: CustomerConfig,
  logger: Logger,
): Promise<RunningCustomerIdentity> {
  const metrics = createMetrics("customer_identity");
  const mongo = await connectMongo(config.MONGODB_URL, config.MONGODB_DATABASE ?? "customer_identity");
  const store = createStreamStore(mongo.db);
  const keys = createMatchKeyIndex(mongo.db);
  const candidates = createMergeCandidateStore(mongo.db, store);
  await Promise.all([store.ensureIndexes(), keys.ensureIndexes(), candidates.ensureIndexes()]);

  const sourceSystems = new Map<string, SourceSystem>(config.SOURCE_SYSTEMS.map((s) => [s.id, s]));
  const deps: CustomerDeps = {
    streams: createCustomerStreams(store),
    keys,
    candidates,
    sourceSystems: (id) => sourceSystems.get(id),
    mergeRules: config.MERGE_RULES,
    clock: { now: () => new Date() },
    logger,
    claimGraceMs: config.CLAIM_GRACE_MS,
  };
  const amqp = connectAmqp(config.AMQP_URL, {
    name: `customer-identity-${randomUUID().slice(0, 8)}`,
    logger,
  });
  const publisher = createEventPublisher(amqp, {
    source: "customer-identity",
    exchange: config.EVENTS_EXCHANGE,
  });
  const relay = createOutboxRelay({ store, publisher, logger, metrics });
  relay.start();

  const server = createRpcServer({
    name: "customer-identity",
    port: config.PORT,
    logger,
    metrics,
    mapDomainError: mapCustomerError,
    services: [
      serve(CustomerIdentityService, createCustomerHandler(deps, { lookupRegion: config.LOOKUP_REGION })),
    ],
  });
  await server.start();
  const metricsServer = await startMetricsServer(metrics.registry, config.METRICS_PORT);

  const stop = createShutdown(logger, [
    { name: "rpc server", run: () => server.stop(config.SHUTDOWN_GRACE_MS) },
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
    flushOutbox: (timeoutMs) => relay.flush(timeoutMs),
    stop,
  };
}

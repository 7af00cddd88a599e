// What every service process is made of, once: telemetry (when an OTLP endpoint is set), metrics, its MongoDB database with the stream store and
// outbox relay, its RabbitMQ connection and event publisher, then serving its RPC services with health,
// reflection, the admin RPCs (parked messages) and metrics, and the ordered shutdown. Each service's compose.ts adds only its own parts.
import { randomUUID } from "node:crypto";
import type { AmqpConnectionManager } from "amqp-connection-manager";
import type { z } from "zod";
import { AdminService, adminService } from "../admin/index.js";
import { connectAmqp, createEventPublisher } from "../amqp/index.js";
import type { baseEnvSchema } from "../config/index.js";
import type { Logger } from "../log/index.js";
import { createMetrics, type Metrics, startMetricsServer } from "../metrics/index.js";
import type { DomainErrorMapper } from "../rpc/index.js";
import {
  createRpcServer,
  createShutdown,
  type ServiceRegistration,
  type ShutdownStep,
  serve,
} from "../server/index.js";
import { connectMongo, createOutboxRelay, createStreamStore, type StreamStore } from "../store/index.js";
import { startTelemetry } from "../telemetry/index.js";

export type BaseConfig = z.output<typeof baseEnvSchema>;

export interface ServiceRuntime {
  readonly metrics: Metrics;
  readonly db: Awaited<ReturnType<typeof connectMongo>>["db"];
  readonly store: StreamStore;
  readonly amqp: AmqpConnectionManager;
  /** Resolves once every stored event has been published. */
  flushOutbox(timeoutMs?: number): Promise<void>;
  /**
   * Serves the service's RPC services and its metrics. `stopFirst` runs at shutdown after the server
   * stops taking calls and before the outbox is flushed and the connections close (consumers, sweeps).
   */
  serve(options: {
    services: ServiceRegistration[];
    mapDomainError: DomainErrorMapper;
    stopFirst?: readonly ShutdownStep[];
    /**
     * The service's consumer queues (without the environment's prefix): served with them, the
     * AdminService lists and replays what they parked.
     */
    consumerQueues?: readonly string[];
    /** The read models its instances rebuild on ReadModelRebuildRequested (AdminService.RebuildReadModel). */
    readModels?: readonly string[];
  }): Promise<{ port: number; metricsPort: number; stop: () => Promise<boolean> }>;
}

/**
 * Connects a service's storage and broker and starts its outbox relay. `name` names the process in
 * logs, metrics and broker connections; `database` is the database used when the URL names none.
 */
export async function startRuntime(options: {
  name: string;
  database: string;
  config: BaseConfig;
  logger: Logger;
}): Promise<ServiceRuntime> {
  const { name, config, logger } = options;
  const telemetry = startTelemetry(name);
  const metrics = createMetrics(name.replaceAll("-", "_"));
  const mongo = await connectMongo(
    config.MONGODB_URL,
    config.MONGODB_DATABASE ?? options.database,
    (command, collection) => metrics.mongoCommands.inc({ command, collection }),
    logger,
  );
  const store = createStreamStore(mongo.db);
  await store.ensureIndexes();
  const amqp = connectAmqp(config.AMQP_URL, { name: `${name}-${randomUUID().slice(0, 8)}`, logger });
  const publisher = createEventPublisher(amqp, { source: name, exchange: config.EVENTS_EXCHANGE });
  const relay = createOutboxRelay({ store, publisher, logger, metrics });
  relay.start();
  return {
    metrics,
    db: mongo.db,
    store,
    amqp,
    flushOutbox: (timeoutMs) => relay.flush(timeoutMs),
    async serve({ services, mapDomainError, stopFirst = [], consumerQueues = [], readModels = [] }) {
      const admin = serve(
        AdminService,
        adminService({
          service: name,
          publish: (events) => publisher.publish(events),
          connection: amqp,
          queues: consumerQueues.map((q) => `${config.QUEUE_PREFIX}${q}`),
          store,
          readModels,
        }),
      );
      const server = createRpcServer({
        name,
        port: config.PORT,
        webPort: config.WEB_PORT,
        logger,
        metrics,
        mapDomainError,
        services: [...services, admin],
        peerKeys: config.MESH_SERVICE_KEYS,
      });
      await server.start();
      const metricsServer = await startMetricsServer(metrics.registry, config.METRICS_PORT);
      const stop = createShutdown(logger, [
        { name: "rpc server", run: () => server.stop(config.SHUTDOWN_GRACE_MS) },
        ...stopFirst,
        {
          name: "outbox flush",
          run: () => relay.flush(config.SHUTDOWN_GRACE_MS).finally(() => relay.stop()),
        },
        { name: "publisher", run: () => publisher.close() },
        { name: "amqp", run: () => amqp.close() },
        { name: "metrics", run: () => metricsServer.close() },
        { name: "mongodb", run: () => mongo.close() },
        ...(telemetry ? [{ name: "telemetry", run: () => telemetry.shutdown() }] : []),
      ]);
      return { port: server.port, metricsPort: metricsServer.port, stop };
    },
  };
}

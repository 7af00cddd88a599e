// The finance service (compose, real ports) on the test MongoDB and RabbitMQ with a database, events
// exchange and queue prefix of its own, and an emitter that publishes order events onto that exchange
// exactly as the order service's outbox relay does (protobuf bodies, CloudEvents headers).
import { randomUUID } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type DescMessage, type MessageShape, toBinary } from "@bufbuild/protobuf";
import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { FinancePostingService } from "@retail/contracts/retail/finance/v1/finance_service_pb";
import { connectAmqp, createEventPublisher } from "@retail/platform/amqp";
import { createLogger } from "@retail/platform/log";
import { routingKeyOf } from "@retail/platform/store";
import {
  deleteRunQueues,
  dropTestDatabases,
  testAmqpUrl,
  testServiceEnv,
  uniqueName,
} from "@retail/platform/testing";
import { composeFinance, consumerQueues, type RunningFinance } from "../src/compose.js";
import { loadFinanceConfig } from "../src/config.js";

export interface FinanceHarness {
  readonly running: RunningFinance;
  readonly client: Client<typeof FinancePostingService>;
  readonly exportDir: string;
  readonly database: string;
  readonly exchange: string;
  /** Publishes an order event (same id twice = a redelivery); returns its id. */
  emit<Desc extends DescMessage>(
    schema: Desc,
    message: MessageShape<Desc>,
    options?: { id?: string; at?: Date },
  ): Promise<string>;
  stop(): Promise<void>;
}

/**
 * `exchange`: join another harness's exchange (to consume the real order service's events);
 * `database` too: a second instance of the same service (same database, exchange and queues).
 */
export async function startFinance(
  name: string,
  env: Record<string, string> = {},
  options: { exchange?: string; database?: string } = {},
): Promise<FinanceHarness> {
  const database = options.database ?? uniqueName(`finance_${name}`);
  const exchange = options.exchange ?? uniqueName(`ex_${name}`);
  const exportDir = await mkdtemp(join(tmpdir(), "erp-"));
  const config = loadFinanceConfig({
    ...testServiceEnv(database, exchange),
    ERP_EXPORT_DIR: exportDir,
    ...env,
  });
  const running = await composeFinance(config, createLogger({ service: "finance-posting", level: "silent" }));
  const client = createClient(
    FinancePostingService,
    createGrpcTransport({ baseUrl: `http://127.0.0.1:${running.port}`, defaultTimeoutMs: 20_000 }),
  );
  const amqp = connectAmqp(testAmqpUrl(), {
    name: `order-emitter-${name}`,
    logger: createLogger({ service: "test", level: "silent" }),
  });
  const publisher = createEventPublisher(amqp, { source: "order", exchange });
  let version = 0;
  return {
    running,
    client,
    exportDir,
    database,
    exchange,
    async emit(schema, message, options = {}) {
      const eventId = options.id ?? randomUUID();
      await publisher.publish([
        {
          eventId,
          streamId: `order:test-${name}`,
          version: ++version,
          type: schema.typeName,
          routingKey: routingKeyOf(schema.typeName),
          data: toBinary(schema, message),
          occurredAt: options.at ?? new Date(),
          correlationId: randomUUID(),
          causationId: "",
          traceparent: "",
        },
      ]);
      return eventId;
    },
    async stop() {
      await running.stop();
      await publisher.close();
      await amqp.close();
      // A second instance leaves the queues and the database to the harness that made them.
      if (options.database !== undefined) return;
      await deleteRunQueues(testAmqpUrl(), `${exchange}.`, consumerQueues, exchange);
      await dropTestDatabases(database);
    },
  };
}

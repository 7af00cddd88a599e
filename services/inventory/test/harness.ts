// Starts the real inventory service (compose, real ports) on the test MongoDB and RabbitMQ, with a
// database and an events exchange of its own per test file, and gives a Connect client to it.
import { create, type DescMessage, fromBinary, type MessageShape } from "@bufbuild/protobuf";
import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { LocationType } from "@retail/contracts/retail/inventory/v1/inventory_pb";
import { InventoryService } from "@retail/contracts/retail/inventory/v1/inventory_service_pb";
import { createLogger } from "@retail/platform/log";
import { deleteConsumerQueues, testAmqpUrl, testMongoUrl, uniqueName } from "@retail/platform/testing";
import amqplib from "amqplib";
import { orderEventsQueue } from "../src/adapters/amqp/order-events-consumer.js";
import { composeInventory, type RunningInventory } from "../src/compose.js";
import { loadInventoryConfig } from "../src/config.js";

export interface Harness {
  readonly database: string;
  readonly exchange: string;
  start(
    env?: Record<string, string>,
  ): Promise<{ running: RunningInventory; client: Client<typeof InventoryService> }>;
  /** A queue bound to the file's exchange that collects every event published, decoded on demand. */
  capture(bindings?: string[]): Promise<EventCapture>;
  stopAll(): Promise<void>;
}

export interface EventCapture {
  readonly events: Array<{ type: string; subject: string; data: Uint8Array }>;
  of<Desc extends DescMessage>(schema: Desc): Array<MessageShape<Desc>>;
  close(): Promise<void>;
}

export function createHarness(name: string): Harness {
  const database = uniqueName(`inventory_${name}`);
  const exchange = uniqueName(`ex_${name}`);
  const running: RunningInventory[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  return {
    database,
    exchange,
    async start(env = {}) {
      const config = loadInventoryConfig({
        MONGODB_URL: testMongoUrl(),
        MONGODB_DATABASE: database,
        AMQP_URL: testAmqpUrl(),
        EVENTS_EXCHANGE: exchange,
        QUEUE_PREFIX: `${exchange}.`,
        PORT: "0",
        METRICS_PORT: "0",
        RESERVATION_SWEEP_MS: "200",
        ...env,
      });
      const service = await composeInventory(config, createLogger({ service: "inventory", level: "silent" }));
      running.push(service);
      const client = createClient(
        InventoryService,
        createGrpcTransport({ baseUrl: `http://127.0.0.1:${service.port}`, defaultTimeoutMs: 20_000 }),
      );
      return { running: service, client };
    },
    async capture(bindings = ["inventory.#"]) {
      const connection = await amqplib.connect(testAmqpUrl());
      const channel = await connection.createChannel();
      await channel.assertExchange(exchange, "topic", { durable: true });
      const { queue } = await channel.assertQueue("", { exclusive: true });
      for (const binding of bindings) await channel.bindQueue(queue, exchange, binding);
      const events: EventCapture["events"] = [];
      await channel.consume(
        queue,
        (m) => {
          if (!m) return;
          events.push({
            type: String(m.properties.headers?.["ce-type"]),
            subject: String(m.properties.headers?.["ce-subject"]),
            data: new Uint8Array(m.content),
          });
        },
        { noAck: true },
      );
      const capture: EventCapture = {
        events,
        of: (schema) =>
          events.filter((e) => e.type === schema.typeName).map((e) => fromBinary(schema, e.data)),
        close: () => connection.close(),
      };
      cleanups.push(() => connection.close().catch(() => {}));
      return capture;
    },
    async stopAll() {
      for (const service of running.splice(0)) await service.stop();
      for (const cleanup of cleanups.splice(0)) await cleanup();
      await deleteConsumerQueues(testAmqpUrl(), `${exchange}.${orderEventsQueue}`, exchange);
      const { MongoClient } = await import("mongodb");
      const mongo = new MongoClient(testMongoUrl());
      await mongo.db(database).dropDatabase();
      await mongo.close();
    },
  };
}

/** Registers the locations a test uses. */
export async function registerLocations(
  client: Client<typeof InventoryService>,
  ids: string[],
): Promise<void> {
  for (const locationId of ids) {
    await client.upsertLocation({
      location: {
        locationId,
        type: locationId.startsWith("ST") ? LocationType.STORE : LocationType.DISTRIBUTION_CENTER,
      },
    });
  }
}

export { create };

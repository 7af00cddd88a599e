// Starts the real inventory service (compose, real ports) on the test MongoDB and RabbitMQ, with a
// database and an events exchange of its own per test file, and gives a Connect client to it.
import { randomUUID } from "node:crypto";
import { create, type DescMessage, type MessageShape, toBinary } from "@bufbuild/protobuf";
import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { LocationType, MovementType } from "@retail/contracts/retail/inventory/v1/inventory_pb";
import { InventoryService } from "@retail/contracts/retail/inventory/v1/inventory_service_pb";
import { createLogger } from "@retail/platform/log";
import {
  captureEvents,
  deleteRunQueues,
  dropTestDatabases,
  type EventCapture,
  testAmqpUrl,
  testServiceEnv,
  uniqueName,
} from "@retail/platform/testing";
import amqplib from "amqplib";
import { composeInventory, consumerQueues, type RunningInventory } from "../src/compose.js";
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

export type { EventCapture };

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
        ...testServiceEnv(database, exchange),
        RESERVATION_SWEEP_MS: "200",
        // Tests watch reservations expire in a fraction of a second.
        RESERVATION_TTL_MIN_MS: "50",
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
      const capture = await captureEvents(testAmqpUrl(), exchange, bindings);
      cleanups.push(() => capture.close());
      return capture;
    },
    async stopAll() {
      for (const service of running.splice(0)) await service.stop();
      for (const cleanup of cleanups.splice(0)) await cleanup();
      await deleteRunQueues(testAmqpUrl(), `${exchange}.`, consumerQueues, exchange);
      await dropTestDatabases(database);
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

/** Publishes an order event to the file's exchange as the order service's relay would. */
export async function publishOrderEvent<Desc extends DescMessage>(
  exchange: string,
  routingKey: string,
  schema: Desc,
  message: MessageShape<Desc>,
  id: string = randomUUID(),
): Promise<string> {
  const broker = await amqplib.connect(testAmqpUrl());
  try {
    const channel = await broker.createConfirmChannel();
    channel.publish(exchange, routingKey, Buffer.from(toBinary(schema, message)), {
      headers: {
        "ce-id": id,
        "ce-type": schema.typeName,
        "ce-source": "order",
        "ce-time": new Date().toISOString(),
        "ce-specversion": "1.0",
      },
    });
    await channel.waitForConfirms();
  } finally {
    await broker.close();
  }
  return id;
}

/** Goods receipts and stock figures as the component tests read them, through one client. */
export function stockHelpers(client: () => Client<typeof InventoryService>) {
  let receipts = 0;
  return {
    /** Receives `quantity` units of a SKU at a location (a new movement id each time). */
    async receive(sku: string, locationId: string, quantity: number) {
      await client().recordMovement({
        movement: {
          movementId: `rcv-${randomUUID()}-${++receipts}`,
          type: MovementType.GOODS_RECEIPT,
          sku,
          locationId,
          quantity: BigInt(quantity),
        },
      });
    },
    /** On hand, reserved and available of a SKU at a location, as numbers. */
    async stock(sku: string, locationId = "DC-1") {
      const { position } = await client().getStockPosition({ sku, locationId });
      return {
        onHand: Number(position?.onHand),
        reserved: Number(position?.reserved),
        available: Number(position?.available),
      };
    },
  };
}

// The order service with the real customer-identity and inventory services beside it: those two run as
// processes of their own on free ports, the order service in this process (or as a process too, for a
// test that kills it). Each test file gets its own databases, events exchange and queue prefix.
import type { ChildProcess } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import { CustomerIdentityService } from "@retail/contracts/retail/customer/v1/customer_service_pb";
import {
  FulfillmentPromise,
  LocationType,
  MovementType,
} from "@retail/contracts/retail/inventory/v1/inventory_pb";
import { InventoryService } from "@retail/contracts/retail/inventory/v1/inventory_service_pb";
import { OrderService } from "@retail/contracts/retail/order/v1/order_service_pb";
import { createLogger } from "@retail/platform/log";
import { startServiceOnFreePorts } from "@retail/platform/processes";
import {
  captureEvents,
  deleteRunQueues,
  dropTestDatabases,
  type EventCapture,
  testAmqpUrl,
  testMongoUrl,
  uniqueName,
} from "@retail/platform/testing";
import { consumerQueues as inventoryQueues } from "../../inventory/src/compose.ts";
import { composeOrder, consumerQueues, type RunningOrder } from "../src/compose.js";
import { loadOrderConfig } from "../src/config.js";

export type { EventCapture };

const services = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

function grpc<S extends Parameters<typeof createClient>[0]>(service: S, port: number) {
  return createClient(
    service,
    createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}`, defaultTimeoutMs: 30_000 }),
  );
}

export interface Mesh {
  readonly inventory: Client<typeof InventoryService>;
  readonly customers: Client<typeof CustomerIdentityService>;
  readonly env: Record<string, string>;
  startOrder(
    env?: Record<string, string>,
  ): Promise<{ running: RunningOrder; client: Client<typeof OrderService> }>;
  /** The order service as a process of its own (to kill it), with its client. */
  startOrderProcess(
    env?: Record<string, string>,
  ): Promise<{ child: ChildProcess; client: Client<typeof OrderService> }>;
  capture(bindings?: string[]): Promise<EventCapture>;
  /** Receives stock at a location. */
  receive(sku: string, locationId: string, quantity: number): Promise<void>;
  stopAll(): Promise<void>;
}

/**
 * Starts customer-identity and inventory, registers a DC and two stores, and a "web" channel that ships
 * from the DC and from stores and hands over pickups in stores.
 */
export async function startMesh(name: string): Promise<Mesh> {
  const exchange = uniqueName(`ex_${name}`);
  const databases = ["customer", "inventory", "order"].map((d) => uniqueName(`${d}_${name}`));
  const base = {
    MONGODB_URL: testMongoUrl(),
    AMQP_URL: testAmqpUrl(),
    EVENTS_EXCHANGE: exchange,
    QUEUE_PREFIX: `${exchange}.`,
    LOG_LEVEL: "warn",
  };
  const children: ChildProcess[] = [];
  const ports: Record<string, number> = {};
  for (const [service, database] of [
    ["customer-identity", databases[0]],
    ["inventory", databases[1]],
  ] as const) {
    const started = await startServiceOnFreePorts({
      name: service,
      dir: join(services, service),
      output: "ignore",
      env: { ...base, MONGODB_DATABASE: database ?? "", RESERVATION_SWEEP_MS: "500" },
    });
    ports[service] = started.port;
    children.push(started.child);
  }
  const inventory = grpc(InventoryService, ports.inventory ?? 0);
  for (const [locationId, type] of [
    ["DC-1", LocationType.DISTRIBUTION_CENTER],
    ["ST-1", LocationType.STORE],
    ["ST-2", LocationType.STORE],
  ] as const) {
    await inventory.upsertLocation({
      location: {
        locationId,
        type,
        regionCode: "US",
        address: { regionCode: "US", administrativeArea: "NY" },
      },
    });
  }
  await inventory.setChannelRule({
    rule: {
      channelId: "web",
      channel: Channel.WEB,
      locationIds: ["DC-1", "ST-1", "ST-2"],
      promises: [
        FulfillmentPromise.SHIP_FROM_DC,
        FulfillmentPromise.SHIP_FROM_STORE,
        FulfillmentPromise.PICKUP_IN_STORE,
      ],
    },
  });
  const env = {
    ...base,
    MONGODB_DATABASE: databases[2] ?? "",
    CUSTOMER_IDENTITY_URL: `http://127.0.0.1:${ports["customer-identity"]}`,
    INVENTORY_URL: `http://127.0.0.1:${ports.inventory}`,
  };
  const running: RunningOrder[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  let movement = 0;
  return {
    inventory,
    customers: grpc(CustomerIdentityService, ports["customer-identity"] ?? 0),
    env,
    async startOrder(extra = {}) {
      const config = loadOrderConfig({ ...env, PORT: "0", METRICS_PORT: "0", ...extra });
      const service = await composeOrder(
        config,
        createLogger({ service: "order", level: process.env.TEST_LOG_LEVEL ?? "silent" }),
      );
      running.push(service);
      return { running: service, client: grpc(OrderService, service.port) };
    },
    async startOrderProcess(extra = {}) {
      const { child, port } = await startServiceOnFreePorts({
        name: "order",
        dir: join(services, "order"),
        output: "ignore",
        env: { ...env, ...extra },
      });
      children.push(child);
      return { child, client: grpc(OrderService, port) };
    },
    async capture(bindings = ["order.#"]) {
      const capture = await captureEvents(testAmqpUrl(), exchange, bindings);
      cleanups.push(() => capture.close());
      return capture;
    },
    async receive(sku, locationId, quantity) {
      await inventory.recordMovement({
        movement: {
          movementId: uniqueName(`rcv-${++movement}`),
          type: MovementType.GOODS_RECEIPT,
          sku,
          locationId,
          quantity: BigInt(quantity),
        },
      });
    },
    async stopAll() {
      for (const service of running.splice(0)) await service.stop();
      for (const child of children.splice(0)) {
        if (child.exitCode !== null || child.signalCode !== null) continue; // killed by the test
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }
      for (const cleanup of cleanups.splice(0)) await cleanup();
      await deleteRunQueues(testAmqpUrl(), `${exchange}.`, [...consumerQueues, ...inventoryQueues], exchange);
      await dropTestDatabases(...databases);
    },
  };
}

// Accepted orders per second and acceptance latency at increasing concurrency, with customer-identity,
// inventory and order each running as its own process on the local MongoDB-compatible server and
// RabbitMQ (started if needed, as `npm start` does).
//
//   npm run bench -w @retail/service-order -- --seconds 10 --concurrency 1,4,16,32 --skus 200
//
// Every order is a new web shopper (a customer created through customer-identity) buying two SKUs
// shipped from the DC (a reservation through inventory); stock never runs out, so every order should
// be accepted, and anything else is counted.
import type { ChildProcess } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import {
  FulfillmentPromise,
  LocationType,
  MovementType,
} from "@retail/contracts/retail/inventory/v1/inventory_pb";
import { InventoryService } from "@retail/contracts/retail/inventory/v1/inventory_service_pb";
import { FulfillmentType, OrderStatus } from "@retail/contracts/retail/order/v1/order_pb";
import { OrderService } from "@retail/contracts/retail/order/v1/order_service_pb";
import { outboxDrained, quantile, startServiceProcess } from "@retail/platform/processes";
import { deleteRunQueues } from "@retail/platform/testing";
import { MongoClient } from "mongodb";
import { up } from "../../../scripts/infra.ts";
import { consumerQueues as inventoryQueues } from "../../inventory/src/compose.ts";
import { consumerQueues as orderQueues } from "../src/compose.js";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "10" },
    concurrency: { type: "string", default: "1,4,16,32" },
    skus: { type: "string", default: "200" },
  },
});
const seconds = Number(values.seconds);
const levels = String(values.concurrency).split(",").map(Number);
const skuCount = Number(values.skus);
const services = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const run = Date.now();
const sku = (i: number) => `BENCH-${String(i).padStart(5, "0")}`;

async function main(): Promise<void> {
  const infra = await up();
  const exchange = `bench_${run}`;
  const base = {
    MONGODB_URL: infra.mongodbUrl,
    AMQP_URL: infra.amqpUrl,
    EVENTS_EXCHANGE: exchange,
    QUEUE_PREFIX: `${exchange}.`,
    LOG_LEVEL: "warn",
  };
  const ports = { customer: [7911, 9911], inventory: [7912, 9912], order: [7913, 9913] } as const;
  const children: ChildProcess[] = [];
  const start = async (name: string, key: keyof typeof ports, env: Record<string, string>) => {
    const [port, metricsPort] = ports[key];
    children.push(
      await startServiceProcess({
        name,
        dir: join(services, name),
        metricsPort,
        env: {
          ...base,
          MONGODB_DATABASE: `bench_${key}_${run}`,
          PORT: String(port),
          METRICS_PORT: String(metricsPort),
          ...env,
        },
      }),
    );
  };
  try {
    await start("customer-identity", "customer", {});
    await start("inventory", "inventory", { RESERVATION_SWEEP_MS: "60000" });
    await start("order", "order", {
      CUSTOMER_IDENTITY_URL: `http://127.0.0.1:${ports.customer[0]}`,
      INVENTORY_URL: `http://127.0.0.1:${ports.inventory[0]}`,
    });
    const transport = (port: number) =>
      createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}`, defaultTimeoutMs: 60_000 });
    const inventory = createClient(InventoryService, transport(ports.inventory[0]));
    const orders = createClient(OrderService, transport(ports.order[0]));

    await inventory.upsertLocation({
      location: {
        locationId: "DC-1",
        type: LocationType.DISTRIBUTION_CENTER,
        regionCode: "US",
        address: { regionCode: "US", administrativeArea: "NY" },
      },
    });
    await inventory.setChannelRule({
      rule: {
        channelId: "web",
        channel: Channel.WEB,
        locationIds: ["DC-1"],
        promises: [FulfillmentPromise.SHIP_FROM_DC],
      },
    });
    await inventory.batchRecordMovements({
      movements: Array.from({ length: skuCount }, (_, i) => ({
        movementId: `bench-receipt-${run}-${i}`,
        type: MovementType.GOODS_RECEIPT,
        sku: sku(i),
        locationId: "DC-1",
        quantity: 1_000_000n,
      })),
    });
    await outboxDrained(ports.inventory[1]);
    console.log(
      `${skuCount} SKUs stocked at DC-1; phases of ${seconds} s; each order: a new customer, 2 lines, 1 reservation\n`,
    );

    let n = 0;
    for (const concurrency of levels) {
      const latencies: number[] = [];
      let rejected = 0;
      let failed = 0;
      const deadline = performance.now() + seconds * 1000;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (performance.now() < deadline) {
            const i = n++;
            const t = performance.now();
            try {
              const { order } = await orders.submitOrder({
                requestId: `bench-${run}-${i}`,
                channel: Channel.WEB,
                channelId: "web",
                channelOrderId: `bench-${run}-${i}`,
                currencyCode: "USD",
                customer: {
                  sourceSystem: "shopify-web",
                  sourceId: `acct-${run}-${i}`,
                  email: `shopper-${run}-${i}@example.com`,
                  familyName: "Bench",
                },
                shipTo: {
                  lines: ["1 Main St"],
                  administrativeArea: "NY",
                  regionCode: "US",
                  postalCode: "10001",
                },
                lines: [1, 2].map((k) => ({
                  lineId: String(k),
                  sku: sku((i * 2 + k) % skuCount),
                  quantity: 1n,
                  unitPrice: { currencyCode: "USD", minorUnits: 1999n },
                  fulfillmentType: FulfillmentType.SHIP,
                })),
              });
              if (order?.status === OrderStatus.ACCEPTED) latencies.push(performance.now() - t);
              else rejected++;
            } catch (error) {
              if (++failed <= 3) console.error(error);
            }
          }
        }),
      );
      const elapsed = (performance.now() - started) / 1000;
      latencies.sort((a, b) => a - b);
      console.log(
        `concurrency ${String(concurrency).padStart(3)}: ${(latencies.length / elapsed).toFixed(1).padStart(7)} accepted orders/s   p50 ${quantile(latencies, 0.5).toFixed(1).padStart(7)} ms   p99 ${quantile(latencies, 0.99).toFixed(1).padStart(7)} ms   (${latencies.length} accepted, ${rejected} rejected, ${failed} failed)`,
      );
    }
  } finally {
    for (const child of children) child.kill("SIGTERM");
    const mongo = await MongoClient.connect(infra.mongodbUrl);
    for (const key of Object.keys(ports)) await mongo.db(`bench_${key}_${run}`).dropDatabase();
    await mongo.close();
    await deleteRunQueues(infra.amqpUrl, `${exchange}.`, [...orderQueues, ...inventoryQueues], exchange);
  }
}

await main();

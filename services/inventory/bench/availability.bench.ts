// Inventory benchmark (a script, not a test): `npm run bench -w @retail/service-inventory [-- options]`
//   --skus 10000 --locations 20   size of the catalogue seeded through BatchRecordMovements
//   --seconds 10                  length of each measured phase
//   --concurrency 32              calls in flight per phase
// Reports, over gRPC against a real inventory instance on the local MongoDB-compatible server:
//   1. GetAvailability (in-memory read model) next to reading the position from the database
//      (GetStockPosition over gRPC, and a bare findOne on the positions collection);
//   2. reservations of one hot SKU next to reservations spread over many SKUs;
// with throughput, p50 and p99 for each, and the ratios. The service runs as its own process (as
// deployed); the load comes from this one, so the two share the machine's cores.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { LocationType, MovementType } from "@retail/contracts/retail/inventory/v1/inventory_pb";
import { InventoryService } from "@retail/contracts/retail/inventory/v1/inventory_service_pb";
import {
  commandsPerUnit,
  measurePhase,
  mongoCommandCounts,
  outboxDrained,
  phaseRow,
  residentMemoryMiB,
  startServiceProcess,
} from "@retail/platform/processes";
import { createStreamStore } from "@retail/platform/store";
import { deleteRunQueues } from "@retail/platform/testing";
import { MongoClient } from "mongodb";
import { up } from "../../../scripts/infra.ts";
import { createStockLedger } from "../src/adapters/mongo/stock-ledger.js";
import { consumerQueues } from "../src/compose.js";

const { values } = parseArgs({
  options: {
    skus: { type: "string", default: "10000" },
    locations: { type: "string", default: "20" },
    seconds: { type: "string", default: "10" },
    concurrency: { type: "string", default: "32" },
  },
});
const skuCount = Number(values.skus);
const locationCount = Number(values.locations);
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);

const sku = (i: number) => `SKU-${String(i).padStart(6, "0")}`;
const location = (i: number) => `LOC-${String(i).padStart(3, "0")}`;
const pick = (n: number) => Math.floor(Math.random() * n);

/** A phase's figures, then the MongoDB commands each of its calls cost the service. */
async function measure(name: string, call: (i: number) => Promise<unknown>) {
  const before = await mongoCommandCounts(metricsPort);
  const phase = await measurePhase({ name, seconds, concurrency }, call);
  console.log(row(phase));
  console.log(`  ${commandsPerUnit("per call", before, await mongoCommandCounts(metricsPort), phase.calls)}`);
  return phase;
}
const row = phaseRow;

async function seed(client: Client<typeof InventoryService>): Promise<number> {
  for (let l = 0; l < locationCount; l++) {
    await client.upsertLocation({ location: { locationId: location(l), type: LocationType.STORE } });
  }
  const started = performance.now();
  const total = skuCount * locationCount;
  const batch = 500;
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (;;) {
        const from = next;
        next += batch;
        if (from >= total) return;
        const movements = Array.from({ length: Math.min(batch, total - from) }, (_, k) => {
          const i = from + k;
          return {
            movementId: `seed-${i}`,
            type: MovementType.GOODS_RECEIPT,
            sku: sku(i % skuCount),
            locationId: location(Math.floor(i / skuCount)),
            quantity: 1_000_000n,
          };
        });
        await client.batchRecordMovements({ movements }, { timeoutMs: 60_000 });
      }
    }),
  );
  return total / ((performance.now() - started) / 1000);
}

const port = 7902;
const metricsPort = 9902;

async function main(): Promise<void> {
  const infra = await up();
  const database = `bench_inventory_${Date.now()}`;
  const exchange = `bench_${Date.now()}`;
  const start = () =>
    startServiceProcess({
      name: "inventory",
      dir: join(dirname(fileURLToPath(import.meta.url)), ".."),
      metricsPort,
      env: {
        MONGODB_URL: infra.mongodbUrl,
        MONGODB_DATABASE: database,
        AMQP_URL: infra.amqpUrl,
        EVENTS_EXCHANGE: exchange,
        QUEUE_PREFIX: `${exchange}.`, // never a running mesh's queues
        PORT: String(port),
        METRICS_PORT: String(metricsPort),
        RESERVATION_SWEEP_MS: "60000",
        LOG_LEVEL: "warn",
      },
    });
  let child = await start();
  const client = createClient(
    InventoryService,
    createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}`, defaultTimeoutMs: 60_000 }),
  );
  const mongo = new MongoClient(infra.mongodbUrl, { maxPoolSize: 8 });
  try {
    console.log(`seeding ${skuCount} SKUs x ${locationCount} locations through BatchRecordMovements ...`);
    const seedCommands = await mongoCommandCounts(metricsPort);
    const seedRate = await seed(client);
    console.log(`seeded ${skuCount * locationCount} positions at ${seedRate.toFixed(0)} movements/s`);
    console.log(
      `  ${commandsPerUnit("per movement", seedCommands, await mongoCommandCounts(metricsPort), skuCount * locationCount)}`,
    );
    await outboxDrained(metricsPort);
    const ledger = createStockLedger(mongo.db(database), createStreamStore(mongo.db(database)));
    const foldStarted = performance.now();
    const folded = await ledger.rebuildAll();
    const foldSeconds = (performance.now() - foldStarted) / 1000;
    // A restart: the instance stops, a new one starts and builds its read model before it is ready.
    child.kill("SIGTERM");
    await new Promise((resolve) => child.once("exit", resolve));
    const restartStarted = performance.now();
    child = await start();
    const restartSeconds = (performance.now() - restartStarted) / 1000;
    const rss = await residentMemoryMiB(metricsPort);
    console.log(
      `restart: a new instance ready with ${folded.length} positions in its read model in ${restartSeconds.toFixed(1)} s, resident memory ${rss.toFixed(0)} MiB (folding every position's whole ledger instead takes ${foldSeconds.toFixed(1)} s)`,
    );
    console.log(
      `\nphases of ${seconds} s, ${concurrency} calls in flight; the service runs in its own process, the load comes from this one\n`,
    );

    const readModel = await measure("GetAvailability (read model) over gRPC", () =>
      client.getAvailability({ sku: sku(pick(skuCount)), locationId: location(pick(locationCount)) }),
    );
    const fromLedger = await measure("GetStockPosition (database) over gRPC", () =>
      client.getStockPosition({ sku: sku(pick(skuCount)), locationId: location(pick(locationCount)) }),
    );
    const positions = mongo.db(database).collection("positions");
    const bareFind = await measure("findOne on positions (database, no RPC)", () =>
      positions.findOne({ _id: `stock:${sku(pick(skuCount))}@${location(pick(locationCount))}` as never }),
    );

    const hot = await measure("ReserveStock, one hot SKU", (i) =>
      client.reserveStock({
        requestId: `hot-${i}`,
        orderId: `hot-${i}`,
        lines: [{ lineId: "1", sku: sku(0), quantity: 1n, locationId: location(0) }],
      }),
    );
    await outboxDrained(metricsPort);
    const spread = await measure("ReserveStock, spread over all SKUs", (i) =>
      client.reserveStock({
        requestId: `spread-${i}`,
        orderId: `spread-${i}`,
        lines: [
          {
            lineId: "1",
            sku: sku(1 + pick(skuCount - 1)),
            quantity: 1n,
            locationId: location(pick(locationCount)),
          },
        ],
      }),
    );
    await outboxDrained(metricsPort);

    console.log("\nratios");
    console.log(
      `  read model vs GetStockPosition: ${(readModel.perSecond / fromLedger.perSecond).toFixed(1)}x throughput, p99 ${(fromLedger.p99 / readModel.p99).toFixed(1)}x lower`,
    );
    console.log(
      `  read model vs bare findOne:     ${(readModel.perSecond / bareFind.perSecond).toFixed(1)}x throughput, p99 ${(bareFind.p99 / readModel.p99).toFixed(1)}x lower`,
    );
    console.log(
      `  spread vs hot-SKU reservations: ${(spread.perSecond / hot.perSecond).toFixed(1)}x throughput`,
    );
  } finally {
    child.kill("SIGTERM");
    await new Promise((resolve) => child.once("exit", resolve));
    await mongo.db(database).dropDatabase();
    await mongo.close();
    await deleteRunQueues(infra.amqpUrl, `${exchange}.`, consumerQueues, exchange);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);

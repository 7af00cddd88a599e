// Gateway benchmark (a script, not a test): `npm run bench -w @retail/gateway [-- options]`
//   --skus 200        SKUs seeded at one location
//   --seconds 10      length of each measured phase
//   --concurrency 16  calls in flight per phase
//   --from dist       run inventory and the gateway as deployed (dist/main.js, built first with tsc -b)
//                     or from source through tsx (--from source)
//   GATEWAY_PROFILE=/tmp/prof  also writes a V8 CPU profile of the gateway process there
// The same read (GetAvailability, served from inventory's in-memory read model) and write
// (RecordMovement, a stored event) through the gateway over REST/JSON and directly against inventory
// over gRPC (the platform's client, as the services call each other), plus the write with an
// Idempotency-Key (the gateway's store on the path). Reports throughput, p50 and p99 of each and the gateway/direct ratios. Inventory and the
// gateway run as processes of their own; the load comes from this one, and all three share the cores.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { LocationType, MovementType } from "@retail/contracts/retail/inventory/v1/inventory_pb";
import { InventoryService } from "@retail/contracts/retail/inventory/v1/inventory_service_pb";
import {
  freePort,
  measureOpenLoop,
  measurePhase,
  type Phase,
  phaseRow,
  residentMemoryMiB,
  startServiceProcess,
} from "@retail/platform/processes";
import { createServiceClient } from "@retail/platform/rpc";
import { deleteRunQueues } from "@retail/platform/testing";
import { MongoClient } from "mongodb";
import { up } from "../../scripts/infra.ts";
import { consumerQueues as inventoryQueues } from "../../services/inventory/src/compose.ts";
import { sha256Hex } from "../src/access/clients.js";
import { consumerQueues as gatewayQueues } from "../src/compose.js";

const { values } = parseArgs({
  options: {
    skus: { type: "string", default: "200" },
    seconds: { type: "string", default: "10" },
    concurrency: { type: "string", default: "16" },
    from: { type: "string", default: "dist" },
  },
});
const skuCount = Number(values.skus);
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const sku = (i: number) => `SKU-${String(i).padStart(6, "0")}`;
const pick = (n: number) => Math.floor(Math.random() * n);
const run = Date.now().toString(36);
const from = values.from === "source" ? "source" : "dist";
if (from === "dist") {
  const built = spawnSync(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-b"], {
    cwd: root,
    stdio: "inherit",
  });
  if (built.status !== 0) throw new Error("tsc -b failed: cannot run from dist");
}

const infra = await up(() => undefined);
const databases = [`bench_gw_inventory_${run}`, `bench_gw_gateway_${run}`];
const base = {
  MONGODB_URL: infra.mongodbUrl,
  AMQP_URL: infra.amqpUrl,
  EVENTS_EXCHANGE: `bench.gw.${run}`,
  QUEUE_PREFIX: `bench.gw.${run}.`, // never a running mesh's queues
  LOG_LEVEL: "warn",
};
const [inventoryPort, inventoryMetrics, gatewayPort, gatewayMetrics] = [
  await freePort(),
  await freePort(),
  await freePort(),
  await freePort(),
];
const inventory = await startServiceProcess({
  name: "inventory",
  dir: join(root, "services", "inventory"),
  from,
  metricsPort: inventoryMetrics,
  output: "ignore",
  env: {
    ...base,
    MONGODB_DATABASE: databases[0] ?? "",
    PORT: String(inventoryPort),
    METRICS_PORT: String(inventoryMetrics),
  },
});
const dir = mkdtempSync(join(tmpdir(), "gateway-bench-"));
const apiKey = "bench-key";
writeFileSync(
  join(dir, "clients.json"),
  JSON.stringify({
    clients: [
      {
        id: "bench",
        apiKeySha256: [sha256Hex(apiKey)],
        scopes: ["*"],
        rateLimit: { requestsPerSecond: 1e6, burst: 1e6 },
      },
    ],
  }),
);
const inventoryUrl = `http://127.0.0.1:${inventoryPort}`;
const unused = "http://127.0.0.1:1"; // the benchmark calls inventory only
const gateway = await startServiceProcess({
  name: "gateway",
  dir: join(root, "gateway"),
  from,
  metricsPort: gatewayMetrics,
  output: "ignore",
  env: {
    ...base,
    MONGODB_DATABASE: databases[1] ?? "",
    PORT: String(gatewayPort),
    METRICS_PORT: String(gatewayMetrics),
    INVENTORY_URL: inventoryUrl,
    CUSTOMER_IDENTITY_URL: unused,
    ORDER_URL: unused,
    FINANCE_POSTING_URL: unused,
    DELIVERY_URL: unused,
    OPERATIONS_URL: unused,
    GATEWAY_CLIENTS_FILE: join(dir, "clients.json"),
    ...(process.env.GATEWAY_PROFILE
      ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${process.env.GATEWAY_PROFILE}` }
      : {}),
  },
});

try {
  const direct = createServiceClient(InventoryService, { baseUrl: inventoryUrl, timeoutMs: 60_000 });
  await direct.upsertLocation({ location: { locationId: "DC-1", type: LocationType.DISTRIBUTION_CENTER } });
  const movement = (i: number, prefix: string) => ({
    movementId: `${prefix}-${run}-${i}`,
    type: MovementType.GOODS_RECEIPT,
    sku: sku(i % skuCount),
    locationId: "DC-1",
    quantity: 1n,
  });
  for (let i = 0; i < skuCount; i += 100)
    await direct.batchRecordMovements({
      movements: Array.from({ length: Math.min(100, skuCount - i) }, (_, k) => movement(i + k, "seed")),
    });
  // node:http with keep-alive rather than fetch: the load generator shares the cores with the gateway,
  // and fetch costs several times the CPU per request of the Connect client it is compared with.
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const rest = (verb: string, path: string, body?: unknown, idempotencyKey?: string) =>
    new Promise<string>((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const headers: Record<string, string> = { "x-api-key": apiKey };
      if (payload !== undefined) {
        headers["content-type"] = "application/json";
        headers["content-length"] = String(Buffer.byteLength(payload));
      }
      if (idempotencyKey) headers["idempotency-key"] = idempotencyKey;
      const request = httpRequest(
        { host: "127.0.0.1", port: gatewayPort, path, method: verb, headers, agent },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (c: Buffer) => chunks.push(c));
          response.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            if (response.statusCode === 200) resolve(text);
            else reject(new Error(`${response.statusCode} ${text}`));
          });
        },
      );
      request.on("error", reject);
      request.end(payload);
    });
  const jsonMovement = (i: number, prefix: string) => {
    const m = movement(i, prefix);
    return { ...m, type: "MOVEMENT_TYPE_GOODS_RECEIPT", quantity: "1" };
  };
  const phase = (name: string, call: (i: number) => Promise<unknown>) =>
    measurePhase({ name, seconds, concurrency }, call);
  // Warm both paths (JIT, connections) before measuring.
  await measurePhase({ name: "warm-up", seconds: 2, concurrency }, (i) =>
    i % 2
      ? direct.getAvailability({ sku: sku(pick(skuCount)) })
      : rest("GET", `/v1/skus/${sku(pick(skuCount))}/availability`),
  );
  const pairs: Array<[Phase, Phase]> = [];
  const readDirect = await phase("read   GetAvailability  direct gRPC", () =>
    direct.getAvailability({ sku: sku(pick(skuCount)) }),
  );
  const readGateway = await phase("read   GET /v1/skus/{sku}/availability", () =>
    rest("GET", `/v1/skus/${sku(pick(skuCount))}/availability`),
  );
  pairs.push([readDirect, readGateway]);
  const writeDirect = await phase("write  RecordMovement   direct gRPC", (i) =>
    direct.recordMovement({ movement: movement(i, "wd") }),
  );
  const writeGateway = await phase("write  POST /v1/movements", (i) =>
    rest("POST", "/v1/movements", jsonMovement(i, "wg")),
  );
  pairs.push([writeDirect, writeGateway]);
  const writeIdempotent = await phase("write  POST /v1/movements + Idempotency-Key", (i) =>
    rest("POST", "/v1/movements", jsonMovement(i, "wi"), `${run}-${i}`),
  );
  pairs.push([writeDirect, writeIdempotent]);

  console.log(
    `\nGateway vs direct gRPC: ${skuCount} SKUs, ${seconds} s per phase, ${concurrency} in flight\n`,
  );
  for (const p of [readDirect, readGateway, writeDirect, writeGateway, writeIdempotent])
    console.log(phaseRow(p));
  console.log("\nratios (gateway / direct)");
  for (const [d, g] of pairs)
    console.log(
      `  ${g.name.padEnd(48)} throughput x${(g.perSecond / d.perSecond).toFixed(2)}   p50 x${(g.p50 / d.p50).toFixed(2)} (+${(g.p50 - d.p50).toFixed(2)} ms)   p99 x${(g.p99 / d.p99).toFixed(2)}`,
    );
  // The same offered load both ways, below saturation: the gateway's own cost per call, not queueing.
  const rate = Math.max(1, Math.round(readDirect.perSecond / 2));
  const openDirect = await measureOpenLoop(
    { name: `read   direct, open loop ${rate}/s`, seconds, perSecond: rate },
    () => direct.getAvailability({ sku: sku(pick(skuCount)) }),
  );
  const openGateway = await measureOpenLoop(
    { name: `read   gateway, open loop ${rate}/s`, seconds, perSecond: rate },
    () => rest("GET", `/v1/skus/${sku(pick(skuCount))}/availability`),
  );
  const gatewayRss = await residentMemoryMiB(gatewayMetrics);
  console.log(`\nopen loop at half the direct read's capacity (${from})`);
  for (const p of [openDirect, openGateway]) console.log(phaseRow(p));
  console.log(
    `  gateway p50 overhead +${(openGateway.p50 - openDirect.p50).toFixed(2)} ms (target <= 1 ms), p99 +${(openGateway.p99 - openDirect.p99).toFixed(2)} ms`,
  );
  console.log(
    `\ngateway RSS under load ${gatewayRss.toFixed(0)} MiB (target <= 150 MiB from dist), inventory RSS ${(await residentMemoryMiB(inventoryMetrics)).toFixed(0)} MiB`,
  );
} finally {
  for (const child of [gateway, inventory]) {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
  const mongo = new MongoClient(infra.mongodbUrl);
  for (const database of databases) await mongo.db(database).dropDatabase();
  await mongo.close();
  await deleteRunQueues(
    infra.amqpUrl,
    base.QUEUE_PREFIX,
    [...gatewayQueues, ...inventoryQueues],
    base.EVENTS_EXCHANGE,
  );
}

// Resolves a population of source records through the real service and scores the result.
//
//   npm run bench -w @retail/service-customer-identity -- --records 100000 --concurrency 16
//
// The service runs as its own process on the local MongoDB-compatible server and RabbitMQ (started
// if needed, as `npm start` does); this process sends UpsertFromSource calls with `concurrency` in
// flight, then asks the service which customer each record ended in (LookupCustomer by source id) and
// compares that with the generated truth: pairwise precision and recall, and records per second.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { SourceRecordSchema } from "@retail/contracts/retail/customer/v1/customer_pb";
import { CustomerIdentityService } from "@retail/contracts/retail/customer/v1/customer_service_pb";
import { outboxDrained, quantile, residentMemoryMiB, startServiceProcess } from "@retail/platform/processes";
import { deleteRunQueues } from "@retail/platform/testing";
import { MongoClient } from "mongodb";
import { up } from "../../../scripts/infra.ts";
import { keysOfRecord } from "../src/domain/golden.js";
import { defaultSourceSystems } from "../src/domain/source-systems.js";
import { generateRecords, linkablePairs, pairwiseScores } from "./dataset.ts";

const { values } = parseArgs({
  options: {
    records: { type: "string", default: "100000" },
    concurrency: { type: "string", default: "16" },
  },
});
const recordCount = Number(values.records);
const concurrency = Number(values.concurrency);
const port = 7901;
const metricsPort = 9901;

/** Runs `work` over every index with `concurrency` in flight; returns sorted latencies and seconds. */
async function runAll(count: number, work: (i: number) => Promise<void>) {
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const t = performance.now();
        try {
          await work(i);
          latencies.push(performance.now() - t);
        } catch (error) {
          if (++errors <= 5) console.error(`call ${i} failed:`, error);
        }
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  return { latencies, errors, seconds: (performance.now() - started) / 1000 };
}

async function main(): Promise<void> {
  const infra = await up();
  const database = `bench_customer_${Date.now()}`;
  const exchange = `bench_${Date.now()}`;
  const child = await startServiceProcess({
    name: "customer-identity",
    dir: join(dirname(fileURLToPath(import.meta.url)), ".."),
    metricsPort,
    env: {
      MONGODB_URL: infra.mongodbUrl,
      MONGODB_DATABASE: database,
      AMQP_URL: infra.amqpUrl,
      EVENTS_EXCHANGE: exchange, // it consumes nothing: only its exchange is left to delete
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      LOG_LEVEL: "warn",
    },
  });
  const client = createClient(
    CustomerIdentityService,
    createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}`, defaultTimeoutMs: 60_000 }),
  );
  try {
    const records = generateRecords(recordCount);
    // Channels send in no particular order: shuffle (deterministically) so duplicates arrive apart.
    const order = records
      .map((_, i) => i)
      .sort((a, b) => ((a * 2654435761) % 1_000_003) - ((b * 2654435761) % 1_000_003));
    console.log(
      `resolving ${records.length} source records about ${new Set(records.map((r) => r.person)).size} people, ${concurrency} calls in flight ...`,
    );
    const resolved = await runAll(order.length, async (i) => {
      const labelled = records[order[i] as number];
      if (!labelled) return;
      await client.upsertFromSource({
        requestId: `bench-${labelled.record.sourceId}`,
        sourceRecord: labelled.record,
      });
    });
    console.log(
      `UpsertFromSource: ${(resolved.latencies.length / resolved.seconds).toFixed(0)} records/s over ${resolved.seconds.toFixed(1)} s, p50 ${quantile(resolved.latencies, 0.5).toFixed(1)} ms, p99 ${quantile(resolved.latencies, 0.99).toFixed(1)} ms, ${resolved.errors} errors`,
    );
    await outboxDrained(metricsPort);
    console.log(`service resident memory: ${(await residentMemoryMiB(metricsPort)).toFixed(0)} MiB`);

    const customerOf: string[] = new Array(records.length).fill("");
    const looked = await runAll(records.length, async (i) => {
      const { sourceSystem, sourceId } = records[i]?.record ?? { sourceSystem: "", sourceId: "" };
      const found = await client.lookupCustomer({
        key: { case: "source", value: { sourceSystem, sourceId } },
      });
      customerOf[i] = found.customer?.customerId ?? "";
    });
    console.log(
      `LookupCustomer by source id: ${(looked.latencies.length / looked.seconds).toFixed(0)} /s, p50 ${quantile(looked.latencies, 0.5).toFixed(1)} ms, p99 ${quantile(looked.latencies, 0.99).toFixed(1)} ms, ${looked.errors} errors`,
    );
    const scored = records.map((r, i) => ({ person: r.person, customer: customerOf[i] || `missing-${i}` }));
    const scores = pairwiseScores(
      scored.map((s) => s.person),
      scored.map((s) => s.customer),
    );
    const linkable = linkablePairs(
      records.map((r) => r.person),
      (i) => {
        const record = create(SourceRecordSchema, records[i]?.record);
        const keys = keysOfRecord(record, (id) => defaultSourceSystems.find((s) => s.id === id));
        return keys.filter((k) => k.kind !== "source").map((k) => k.id);
      },
    );
    let candidates = 0;
    let pageToken = "";
    do {
      const page = await client.listMergeCandidates({ pageSize: 500, pageToken });
      candidates += page.mergeCandidates.length;
      pageToken = page.nextPageToken;
    } while (pageToken);
    console.log(
      `resolution: ${scores.truePeople} people -> ${scores.customers} customers; pairwise precision ${(scores.precision * 100).toFixed(2)}%, recall ${(scores.recall * 100).toFixed(2)}% (${(scores.truePairs * scores.recall).toFixed(0)} of ${scores.truePairs} same-person pairs; ${linkable} of them share a key, so recall of linkable pairs ${((100 * scores.truePairs * scores.recall) / Math.max(1, linkable)).toFixed(2)}%); ${candidates} merge candidates open for review`,
    );
  } finally {
    child.kill("SIGTERM");
    const mongo = await MongoClient.connect(infra.mongodbUrl);
    await mongo.db(database).dropDatabase();
    await mongo.close();
    await deleteRunQueues(infra.amqpUrl, "", [], exchange);
  }
}

await main();

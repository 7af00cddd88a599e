// The capacity of the parts themselves, measured in the same run on the same machine as the day: what
// the storage server does with single inserts, finds by id and batched inserts, and what the broker
// does with publishes confirmed. The mesh's figures are read against these (a ratio, not a verdict).
import amqplib from "amqplib";
import { MongoClient } from "mongodb";

export interface PartsCapacity {
  readonly singleInsertsPerSecond: number;
  readonly findsByIdPerSecond: number;
  readonly batchedDocumentsPerSecond: number;
  readonly confirmedPublishesPerSecond: number;
  /** The broker's own publish-to-consume latency, p99 in ms, at a steady 500 messages/s. */
  readonly publishToConsumeP99Ms: number;
}

/** Runs `work` from `concurrency` loops for `ms`; the operations done per second. */
async function rate(ms: number, concurrency: number, work: (i: number) => Promise<number>): Promise<number> {
  const until = Date.now() + ms;
  let done = 0;
  let next = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < until) {
        // Not `done += await …`: that reads `done` before the await and loses the other loops' counts.
        const n = await work(next++);
        done += n;
      }
    }),
  );
  return Math.round(done / ((Date.now() - started) / 1_000));
}

/** About 8 s in all, with the mesh idle. Concurrency 8 is a service's MongoDB pool. */
export async function measureParts(mongodbUrl: string, amqpUrl: string, run: string): Promise<PartsCapacity> {
  const client = await MongoClient.connect(mongodbUrl, { maxPoolSize: 8 });
  const db = client.db(`proving_${run}_parts`);
  const docs = db.collection<{ _id: string; sku: string; quantity: number }>("scratch");
  try {
    // The collection exists before the clock starts: creating it is DDL, not the insert being measured.
    await docs.insertOne({ _id: "warm", sku: "SKU-0", quantity: 0 });
    const singleInsertsPerSecond = await rate(2_000, 8, async (i) => {
      await docs.insertOne({ _id: `single-${i}`, sku: `SKU-${i % 100}`, quantity: i });
      return 1;
    });
    const findsByIdPerSecond = await rate(2_000, 8, async (i) => {
      await docs.findOne({ _id: `single-${i % 100}` });
      return 1;
    });
    const batchedDocumentsPerSecond = await rate(2_000, 2, async (i) => {
      await docs.insertMany(
        Array.from({ length: 100 }, (_, k) => ({ _id: `batch-${i}-${k}`, sku: `SKU-${k}`, quantity: k })),
      );
      return 100;
    });
    const connection = await amqplib.connect(amqpUrl);
    const channel = await connection.createConfirmChannel();
    const queue = `proving.${run}.parts`;
    await channel.assertQueue(queue, { durable: true, arguments: { "x-queue-type": "quorum" } });
    const payload = Buffer.alloc(512, 1);
    const confirmedPublishesPerSecond = await rate(2_000, 1, async () => {
      for (let k = 0; k < 50; k++) channel.sendToQueue(queue, payload, { persistent: true });
      await channel.waitForConfirms();
      return 50;
    });
    const publishToConsumeP99Ms = await publishToConsume(channel, queue);
    await channel.deleteQueue(queue);
    await connection.close();
    return {
      singleInsertsPerSecond,
      findsByIdPerSecond,
      batchedDocumentsPerSecond,
      confirmedPublishesPerSecond,
      publishToConsumeP99Ms,
    };
  } finally {
    await db.dropDatabase().catch(() => undefined);
    await client.close();
  }
}

/** Publishes 1,000 messages at 500/s, each stamped with its send time, and times them to a consumer. */
async function publishToConsume(channel: amqplib.ConfirmChannel, queue: string): Promise<number> {
  await channel.purgeQueue(queue);
  const latencies: number[] = [];
  const received = new Promise<void>((resolve) => {
    void channel.consume(queue, (message) => {
      if (!message) return;
      latencies.push(Date.now() - Number(message.content.toString()));
      channel.ack(message);
      if (latencies.length === 1_000) resolve();
    });
  });
  for (let i = 0; i < 100; i++) {
    for (let k = 0; k < 10; k++)
      channel.sendToQueue(queue, Buffer.from(String(Date.now())), { persistent: true });
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await received;
  latencies.sort((a, b) => a - b);
  return latencies[Math.floor(latencies.length * 0.99)] ?? 0;
}

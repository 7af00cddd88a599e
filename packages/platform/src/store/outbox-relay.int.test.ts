import { create } from "@bufbuild/protobuf";
import { StockMovementRecordedSchema } from "@retail/contracts/retail/inventory/v1/inventory_events_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectAmqp } from "../amqp/connection.js";
import { startConsumer } from "../amqp/consumer.js";
import { createEventPublisher } from "../amqp/publisher.js";
import { createLogger } from "../log/index.js";
import { createMetrics } from "../metrics/index.js";
import {
  createTestDatabase,
  deleteConsumerQueues,
  eventually,
  startBrokerProxy,
  testAmqpUrl,
  uniqueName,
} from "../testing/index.js";
import { event } from "./events.js";
import { createInbox } from "./inbox.js";
import { createOutboxRelay } from "./outbox-relay.js";
import { createStreamStore, type OutboxMarker } from "./stream-store.js";

const logger = createLogger({ service: "outbox-test", level: "silent" });
let database: Awaited<ReturnType<typeof createTestDatabase>>;
const queue = uniqueName("test.outbox-events");
const exchange = uniqueName("ex");

beforeAll(async () => {
  database = await createTestDatabase("outbox");
});
afterAll(async () => {
  await deleteConsumerQueues(testAmqpUrl(), queue, exchange);
  await database.drop();
});

describe("outbox relay", () => {
  it("delivers every event appended while the broker is unreachable once it is back, none twice", async () => {
    const { proxy, url: viaProxy } = await startBrokerProxy();

    // The consumer has its own, direct connection; only the publishing side loses the broker.
    const direct = connectAmqp(testAmqpUrl(), { name: "outbox-test-consumer", logger });
    const effects = new Map<string, number>();
    const consumer = await startConsumer({
      connection: direct,
      queue,
      exchange,
      bindings: ["inventory.#"],
      inbox: createInbox(database.db, queue),
      logger,
      handle: async (received) => {
        effects.set(received.id, (effects.get(received.id) ?? 0) + 1);
      },
    });

    const publishing = connectAmqp(viaProxy, { name: "outbox-test-publisher", logger });
    const store = createStreamStore(database.db);
    await store.ensureIndexes();
    const metrics = createMetrics("outbox-test");
    const relay = createOutboxRelay({
      store,
      publisher: createEventPublisher(publishing, { source: "outbox-test", exchange, timeoutMs: 500 }),
      logger,
      metrics,
      pollIntervalMs: 100,
      backoffMs: 100,
      maxBackoffMs: 400,
    });
    relay.start();

    const append = (stream: string, version: number) =>
      store.append(stream, version, [
        event(StockMovementRecordedSchema, create(StockMovementRecordedSchema)),
      ]);
    await append("before-cut", 0);
    await relay.flush();
    await eventually(() => effects.size === 1);

    await proxy.cut();
    const appended = [];
    for (let i = 0; i < 20; i++)
      appended.push(...(await append(`during-cut-${i % 4}`, Math.floor(i / 4))).events);
    await eventually(async () =>
      (await metrics.registry.getSingleMetricAsString("outbox_publish_failures_total")).match(/ [1-9]\d*$/m),
    );
    expect(effects.size).toBe(1);
    expect(await store.unpublishedCount()).toBe(20);

    await proxy.restore();
    await relay.flush(20_000);
    await eventually(() => effects.size === 21, 20_000);
    for (const stored of appended) expect(effects.get(stored.eventId)).toBe(1);
    expect(await store.unpublishedCount()).toBe(0);
    expect(await metrics.registry.getSingleMetricAsString("outbox_backlog_events")).toMatch(/ 0$/m);

    // An append that died between its commit and marking it ready: its old marker is checked and the
    // commit published. A marker whose commit never landed is dropped, and nothing of it published.
    await relay.stop();
    const died = await append("died-after-commit", 0);
    const diedId = died.events[0]?.eventId ?? "";
    const longAgo = new Date(Date.now() - 3_600_000);
    // The crash is staged in the store's own outbox collection (the test reaches behind the store).
    const outbox = database.db.collection<OutboxMarker>("commits.outbox");
    const marker = await outbox.findOne({ streamId: "died-after-commit" });
    await outbox.updateOne({ _id: marker?._id ?? "" }, { $set: { ready: false, recordedAt: longAgo } });
    await outbox.insertOne({
      ...(marker as NonNullable<typeof marker>),
      ready: false,
      recordedAt: longAgo,
      _id: "commit:never-written",
      streamId: "never-written",
      events: (marker?.events ?? []).map((e) => ({ ...e, eventId: "orphan-event" })),
    });
    relay.start();
    await relay.flush();
    expect(await store.unpublishedCount()).toBe(0);
    await eventually(() => effects.has(diedId));
    expect(effects.has("orphan-event")).toBe(false);

    await relay.stop();
    await consumer.close();
    await publishing.close();
    await direct.close();
    await proxy.close();
  });

  it("reads again at once for an append that lands while a batch is out, not at the next poll", async () => {
    const store = createStreamStore(database.db, { collection: "while_out_commits" });
    await store.ensureIndexes();
    const batches: string[][] = [];
    let slow: Promise<void> | undefined;
    const relay = createOutboxRelay({
      store,
      publisher: {
        async publish(events) {
          batches.push(events.map((e) => e.streamId));
          await slow;
        },
      },
      logger,
      pollIntervalMs: 60_000, // only appends and flushes wake it within this test
    });
    relay.start();
    await relay.flush();
    const append = (stream: string) =>
      store.append(stream, 0, [event(StockMovementRecordedSchema, create(StockMovementRecordedSchema))]);
    let release = () => {};
    slow = new Promise((resolve) => {
      release = resolve;
    });
    await append("while-out-1");
    await eventually(() => batches.length === 1); // its publish is out, held
    await append("while-out-2");
    release();
    await eventually(() => batches.flat().includes("while-out-2"), 5_000);
    await relay.stop();
  });
});

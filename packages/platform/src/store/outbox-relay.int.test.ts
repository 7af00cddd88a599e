import { create } from "@bufbuild/protobuf";
import { StockMovementRecordedSchema } from "@retail/contracts/retail/inventory/v1/inventory_events_pb";
import { MongoClient } from "mongodb";
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
  testMongoUrl,
  uniqueName,
} from "../testing/index.js";
import { event } from "./events.js";
import { createInbox } from "./inbox.js";
import { createOutboxRelay } from "./outbox-relay.js";
import { type CommitDocument, createStreamStore } from "./stream-store.js";

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

    // An earlier version's outbox (a copy of each unpublished commit in `commits.outbox`) is carried
    // over when a store opens: a copy whose commit landed is published, one whose commit never did
    // is dropped, nothing of it published, and the old collection is gone.
    await relay.stop();
    const left = await append("left-by-old-version", 0);
    const leftId = left.events[0]?.eventId ?? "";
    const commits = database.db.collection<CommitDocument>("commits");
    await commits.updateOne({ streamId: "left-by-old-version" }, { $unset: { pending: "" } });
    const commit = await commits.findOne({ streamId: "left-by-old-version" });
    const legacy = database.db.collection<CommitDocument & { ready: boolean }>("commits.outbox");
    await legacy.insertMany([
      { ...(commit as CommitDocument), ready: false },
      {
        ...(commit as CommitDocument),
        ready: false,
        _id: "commit:never-written",
        streamId: "never-written",
        events: (commit?.events ?? []).map((e) => ({ ...e, eventId: "orphan-event" })),
      },
    ]);
    expect(effects.has(leftId)).toBe(false);
    await createStreamStore(database.db).ensureIndexes();
    expect(await database.db.listCollections({ name: "commits.outbox" }).toArray()).toEqual([]);
    expect(await store.unpublishedCount()).toBe(1);
    relay.start();
    await relay.flush();
    expect(await store.unpublishedCount()).toBe(0);
    await eventually(() => effects.has(leftId));
    expect(effects.has("orphan-event")).toBe(false);

    await relay.stop();
    await consumer.close();
    await publishing.close();
    await direct.close();
    await proxy.close();
  });

  it("sends what this process appends without reading it back, and polls for what others left", async () => {
    // Commands counted on a connection of the relay's own.
    const monitored = new MongoClient(testMongoUrl(), { monitorCommands: true });
    await monitored.connect();
    // Reads of the outbox that are not polls (a poll asks only for commits past the grace).
    const reads: unknown[] = [];
    monitored.on("commandStarted", (e) => {
      if (e.commandName === "find" && e.command.find === "burst_commits" && !e.command.filter?.recordedAt)
        reads.push(e.command.filter);
    });
    const db = monitored.db(database.db.databaseName);
    const store = createStreamStore(db, { collection: "burst_commits" });
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
      pollIntervalMs: 300,
      pollGraceMs: 2_000,
      lingerMs: 400,
    });
    relay.start();
    await relay.flush();
    const append = (stream: string, on = store) =>
      on.append(stream, 0, [event(StockMovementRecordedSchema, create(StockMovementRecordedSchema))]);
    // A burst inside the linger: one publish and one settle, and the commits are not read back.
    reads.length = 0;
    await Promise.all([append("burst-a"), append("burst-b"), append("burst-c")]);
    await eventually(() => batches.length === 1);
    expect(batches[0]?.sort()).toEqual(["burst-a", "burst-b", "burst-c"]);
    expect(reads).toEqual([]);

    // An append that lands while a batch is out goes right after it.
    let release = () => {};
    slow = new Promise((resolve) => {
      release = resolve;
    });
    await append("while-out-1");
    await eventually(() => batches.length === 2);
    await append("while-out-2");
    release();
    await eventually(() => batches.length === 3);
    expect(batches[2]).toEqual(["while-out-2"]);

    // A commit another instance left pending (its store is not this relay's) is found by a poll.
    const other = createStreamStore(database.db, { collection: "burst_commits" });
    await append("left-by-another", other);
    await eventually(() => batches.flat().includes("left-by-another"), 5_000);
    await eventually(async () => (await store.unpublishedCount()) === 0); // settled after its publish
    // Each commit went out once.
    expect(batches.flat().sort()).toEqual([
      "burst-a",
      "burst-b",
      "burst-c",
      "left-by-another",
      "while-out-1",
      "while-out-2",
    ]);
    await relay.stop();
    await monitored.close();
  });

  it("marks the commits it published over a short lag in one update", async () => {
    const monitored = new MongoClient(testMongoUrl(), { monitorCommands: true });
    await monitored.connect();
    let updates = 0;
    monitored.on("commandStarted", (e) => {
      if (e.commandName === "update" && e.command.update === "lag_commits") updates++;
    });
    const store = createStreamStore(monitored.db(database.db.databaseName), { collection: "lag_commits" });
    await store.ensureIndexes();
    const published: string[] = [];
    const relay = createOutboxRelay({
      store,
      publisher: { publish: async (events) => void published.push(...events.map((e) => e.streamId)) },
      logger,
      settleLagMs: 1_500,
    });
    relay.start();
    await relay.flush();
    for (let i = 0; i < 5; i++) {
      await store.append(`lag-${i}`, 0, [
        event(StockMovementRecordedSchema, create(StockMovementRecordedSchema)),
      ]);
      await eventually(() => published.length === i + 1); // each went out on its own
    }
    expect(updates).toBe(0);
    await eventually(async () => (await store.unpublishedCount()) === 0, 5_000);
    expect(updates).toBe(1);
    await relay.stop();
    await monitored.close();
  });
});

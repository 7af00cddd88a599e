import { randomUUID } from "node:crypto";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { StockMovementRecordedSchema } from "@retail/contracts/retail/inventory/v1/inventory_events_pb";
import amqplib, { type ChannelModel } from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../log/index.js";
import { createMetrics } from "../metrics/index.js";
import type { StoredEvent } from "../store/events.js";
import { event as newEvent } from "../store/events.js";
import { createInbox } from "../store/inbox.js";
import { eventRequest, requestKey } from "../store/requests.js";
import { createStreamStore } from "../store/stream-store.js";
import {
  createTestDatabase,
  deleteConsumerQueues,
  eventually,
  startBrokerProxy,
  testAmqpUrl,
  uniqueName,
} from "../testing/index.js";
import type { ReceivedEvent } from "./cloudevents.js";
import { type AmqpConnectionManager, connectAmqp } from "./connection.js";
import { startConsumer } from "./consumer.js";
import { createEventPublisher } from "./publisher.js";
import { replayParked } from "./replay.js";

const logger = createLogger({ service: "consumer-test", level: "silent" });
let connection: AmqpConnectionManager;
let raw: ChannelModel;
let database: Awaited<ReturnType<typeof createTestDatabase>>;
const declared: Array<{ queue: string; exchange: string; retryDelaysMs?: readonly number[] }> = [];

/** A queue and exchange of the test's own, removed from the broker afterwards. */
function names(prefix: string, retryDelaysMs?: readonly number[]): { queue: string; exchange: string } {
  const pair = { queue: uniqueName(prefix), exchange: uniqueName("ex") };
  declared.push({ ...pair, ...(retryDelaysMs ? { retryDelaysMs } : {}) });
  return pair;
}

function storedEvent(overrides: Partial<StoredEvent> = {}): StoredEvent {
  return {
    eventId: randomUUID(),
    streamId: "SKU-1@DC-1",
    version: 1,
    type: "retail.inventory.v1.StockReserved",
    routingKey: "inventory.stock_reserved",
    data: new Uint8Array([1, 2, 3]),
    occurredAt: new Date(),
    correlationId: "corr-1",
    causationId: "",
    traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    ...overrides,
  };
}

beforeAll(async () => {
  connection = connectAmqp(testAmqpUrl(), { name: "consumer-test", logger });
  raw = await amqplib.connect(testAmqpUrl());
  database = await createTestDatabase("consumer");
});
afterAll(async () => {
  await connection.close();
  await raw.close();
  await database.drop();
  for (const { queue, exchange, retryDelaysMs } of declared) {
    await deleteConsumerQueues(testAmqpUrl(), queue, exchange, retryDelaysMs);
  }
});

async function parkedMessages(queue: string) {
  const channel = await raw.createChannel();
  const messages = [];
  for (let m = await channel.get(`${queue}.parking`); m; m = await channel.get(`${queue}.parking`))
    messages.push(m);
  await channel.close();
  return messages;
}

describe("event consumer", () => {
  it("retries a failing handler with backoff, then parks the message with its failure reason", async () => {
    const { queue, exchange } = names("test.retry-events", [100, 300]);
    const attempts: Array<{ attempt: number; at: number }> = [];
    const metrics = createMetrics("consumer-test");
    const consumer = await startConsumer({
      connection,
      queue,
      exchange,
      bindings: ["inventory.#"],
      retryDelaysMs: [100, 300],
      logger,
      metrics,
      handle: async (event) => {
        attempts.push({ attempt: event.attempt, at: Date.now() });
        throw new Error(`ledger unavailable for ${event.subject}`);
      },
    });
    const publisher = createEventPublisher(connection, { source: "test", exchange });
    const event = storedEvent();
    await publisher.publish([event]);

    await eventually(() => attempts.length === 3, 10_000);
    expect(attempts.map((a) => a.attempt)).toEqual([0, 1, 2]);
    const [first, second, third] = attempts.map((a) => a.at);
    expect((second ?? 0) - (first ?? 0)).toBeGreaterThanOrEqual(90);
    expect((third ?? 0) - (second ?? 0)).toBeGreaterThanOrEqual(290);

    const parked = await eventually(async () => {
      const found = await parkedMessages(queue);
      return found.length > 0 ? found : undefined;
    });
    expect(parked).toHaveLength(1);
    const headers = parked[0]?.properties.headers ?? {};
    expect(String(headers["ce-id"])).toBe(event.eventId);
    expect(String(headers["x-failure-reason"])).toContain("ledger unavailable for SKU-1@DC-1");
    expect(String(headers["x-original-routing-key"])).toBe("inventory.stock_reserved");
    const counted = await metrics.registry.getSingleMetricAsString("amqp_consumer_messages_total");
    expect(counted).toMatch(/outcome="retried"[^\n]*} 2/);
    expect(counted).toMatch(/outcome="parked"[^\n]*} 1/);
    await consumer.close();
    await publisher.close();
  });

  it("handles a duplicate delivery of the same event id once", async () => {
    const { queue, exchange } = names("test.dup-events");
    const effects: string[] = [];
    const consumer = await startConsumer({
      connection,
      queue,
      exchange,
      bindings: ["inventory.#"],
      inbox: createInbox(database.db, queue),
      logger,
      handle: async (event) => {
        effects.push(event.id);
      },
    });
    const publisher = createEventPublisher(connection, { source: "test", exchange });
    const event = storedEvent();
    await publisher.publish([event]);
    await eventually(() => effects.length === 1);
    await publisher.publish([event]);
    const marker = storedEvent();
    await publisher.publish([marker]);
    await eventually(() => effects.includes(marker.eventId));
    expect(effects.filter((id) => id === event.eventId)).toHaveLength(1);
    await consumer.close();
    await publisher.close();
  });

  it("puts a message back for another delivery when its inbox could not be read (the database away)", async () => {
    const { queue, exchange } = names("test.inbox-away");
    const effects: string[] = [];
    const inbox = createInbox(database.db, queue);
    let failures = 0;
    const consumer = await startConsumer({
      connection,
      queue,
      exchange,
      bindings: ["inventory.#"],
      // The inbox's database is away for the first read.
      inbox: {
        ...inbox,
        has: async (eventId) => {
          if (failures++ === 0) throw new Error("connect ECONNREFUSED (the database is away)");
          return inbox.has(eventId);
        },
      },
      logger,
      handle: async (event) => {
        effects.push(event.id);
      },
    });
    const publisher = createEventPublisher(connection, { source: "test", exchange });
    const event = storedEvent();
    await publisher.publish([event]);
    await eventually(() => effects.length === 1, 10_000);
    expect(effects).toEqual([event.eventId]);
    expect(failures).toBe(2);
    await consumer.close();
    await publisher.close();
  });

  it("applies duplicates spread over two consumer instances once, through the use case's request id", async () => {
    const { queue, exchange } = names("test.twin-events");
    const collection = uniqueName("commits");
    const store = createStreamStore(database.db, { collection });
    await store.ensureIndexes();
    let handled = 0;
    // What a real handler does: the event id is the request id of the use case it calls.
    const handle = async (received: ReceivedEvent) => {
      handled++;
      const applied = eventRequest(
        StockMovementRecordedSchema,
        fromBinary(StockMovementRecordedSchema, received.data),
        received.id,
      );
      const request = { key: requestKey("test.Apply", applied.id), fingerprint: applied.fingerprint };
      if (await store.findRequest(request)) return;
      const recorded = newEvent(StockMovementRecordedSchema, create(StockMovementRecordedSchema));
      await store.append(`stream-${received.subject}`, 0, [recorded], { request });
    };
    const second = connectAmqp(testAmqpUrl(), { name: "consumer-test-2", logger });
    const metrics = createMetrics("twins");
    const common = { queue, exchange, bindings: ["inventory.#"], logger, metrics, handle };
    const instances = [
      await startConsumer({ ...common, connection, inbox: createInbox(database.db, queue) }),
      await startConsumer({ ...common, connection: second, inbox: createInbox(database.db, queue) }),
    ];
    const publisher = createEventPublisher(connection, { source: "test", exchange });
    const events = Array.from({ length: 10 }, (_, i) =>
      storedEvent({
        streamId: `s${i}`,
        data: toBinary(
          StockMovementRecordedSchema,
          create(StockMovementRecordedSchema, { movement: { sku: `SKU-${i}` } }),
        ),
      }),
    );
    await publisher.publish([...events, ...events, ...events.slice(0, 5)]);
    // Every one of the 25 deliveries settled, as handled or as a duplicate skipped by the inbox.
    await eventually(async () => {
      const values = (await metrics.consumedMessages.get()).values;
      return values.reduce((sum, v) => sum + v.value, 0) === 25;
    });
    expect(handled).toBeGreaterThanOrEqual(10);
    expect(await database.db.collection(collection).countDocuments({})).toBe(10);
    for (const e of events) expect(await store.read(`stream-${e.streamId}`)).toHaveLength(1);
    for (const instance of instances) await instance.close();
    await second.close();
    await publisher.close();
  });

  it("reconnects after losing the broker and goes on consuming, its queues declared again", async () => {
    const { queue, exchange } = names("test.reconnect-events");
    const { proxy, url: viaProxy } = await startBrokerProxy();
    const flaky = connectAmqp(viaProxy, { name: "consumer-test-flaky", logger });
    const received: string[] = [];
    const consumer = await startConsumer({
      connection: flaky,
      queue,
      exchange,
      bindings: ["inventory.#"],
      logger,
      handle: async (event) => {
        received.push(event.id);
      },
    });
    const publisher = createEventPublisher(connection, { source: "test", exchange });
    const before = storedEvent();
    await publisher.publish([before]);
    await eventually(() => received.includes(before.eventId));

    await proxy.cut();
    const during = storedEvent();
    await publisher.publish([during]);
    await proxy.restore();
    const after = storedEvent();
    await publisher.publish([after]);
    await eventually(() => received.includes(during.eventId) && received.includes(after.eventId), 20_000);
    await consumer.close();
    await flaky.close();
    await publisher.close();
    await proxy.close();
  });

  it("parks a message that is not a CloudEvent at once and replays parked messages on request", async () => {
    const { queue, exchange } = names("test.bad-events", [50]);
    const handled: ReceivedEvent[] = [];
    let failing = true;
    const consumer = await startConsumer({
      connection,
      queue,
      exchange,
      bindings: ["inventory.#"],
      retryDelaysMs: [50],
      logger,
      handle: async (event) => {
        if (failing) throw new Error("downstream refused");
        handled.push(event);
      },
    });
    const channel = await raw.createChannel();
    channel.publish(exchange, "inventory.stock_reserved", Buffer.from("not protobuf"), { headers: {} });
    const parked = await eventually(async () => {
      const found = await parkedMessages(queue);
      return found.length > 0 ? found : undefined;
    });
    expect(String(parked[0]?.properties.headers?.["x-failure-reason"])).toContain("ce-id");
    expect(handled).toHaveLength(0);

    const publisher = createEventPublisher(connection, { source: "test", exchange });
    const event = storedEvent();
    await publisher.publish([event]);
    const check = await raw.createChannel();
    await eventually(async () => (await check.checkQueue(`${queue}.parking`)).messageCount === 2);
    failing = false;
    // Both go back; the undecodable one is parked again at once, the event is handled this time.
    expect(await replayParked(connection, queue)).toBe(2);
    await eventually(() => handled.length === 1);
    expect(handled[0]?.id).toBe(event.eventId);
    expect(handled[0]?.routingKey).toBe("inventory.stock_reserved");
    await eventually(async () => (await check.checkQueue(`${queue}.parking`)).messageCount === 1);
    await check.close();
    await channel.close();
    await consumer.close();
    await publisher.close();
  });
});

import { create, fromBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import {
  AggregateRepublishedSchema,
  ParkedMessagesReplayedSchema,
} from "@retail/contracts/retail/admin/v1/admin_pb";
import {
  GetStatusRequestSchema,
  ListParkedMessagesRequestSchema,
  ReplayParkedMessagesRequestSchema,
  RepublishAggregateRequestSchema,
} from "@retail/contracts/retail/admin/v1/admin_service_pb";
import { OrderAcceptedSchema } from "@retail/contracts/retail/order/v1/order_events_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeThen, UndecodableMessage } from "../amqp/cloudevents.js";
import { type AmqpConnectionManager, connectAmqp } from "../amqp/connection.js";
import { type Consumer, startConsumer } from "../amqp/consumer.js";
import { createEventPublisher } from "../amqp/publisher.js";
import { createLogger } from "../log/index.js";
import { createMetrics } from "../metrics/index.js";
import { event, type StoredEvent } from "../store/events.js";
import { createStreamStore } from "../store/stream-store.js";
import {
  captureEvents,
  createEmitter,
  createTestDatabase,
  deleteConsumerQueues,
  eventually,
  testAmqpUrl,
  uniqueName,
} from "../testing/index.js";
import { adminService } from "./index.js";

const logger = createLogger({ service: "admin-test", level: "silent" });
const queue = uniqueName("admin-test");
const exchange = uniqueName("ex_admin");
let connection: AmqpConnectionManager;
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let consumer: Consumer;
let emitter: ReturnType<typeof createEmitter>;
let publisher: ReturnType<typeof createEventPublisher>;
// The consumer's cause of failure, fixed by the test before the replay.
let fixed = false;
const handled: string[] = [];

beforeAll(async () => {
  connection = connectAmqp(testAmqpUrl(), { name: "admin-test", logger });
  database = await createTestDatabase("admin");
  emitter = createEmitter(testAmqpUrl(), exchange);
  publisher = createEventPublisher(connection, { source: "admin-test", exchange });
  consumer = await startConsumer({
    connection,
    exchange,
    queue,
    bindings: ["order.#"],
    logger,
    metrics: createMetrics("admin_test"),
    handle: decodeThen(
      (event) => {
        if (!fixed && event.subject.startsWith("order:bad"))
          throw new UndecodableMessage("no reader for this body yet");
        return event;
      },
      async (event) => {
        handled.push(event.id);
      },
    ),
  });
});
afterAll(async () => {
  await consumer?.close();
  await emitter?.close();
  await publisher?.close();
  await connection?.close();
  await database?.drop();
  await deleteConsumerQueues(testAmqpUrl(), queue, exchange);
});

const noContext = {} as never;
const publish = (events: readonly StoredEvent[]) => publisher.publish(events);

describe("admin RPCs", () => {
  it("lists parked messages decoded without personal data, and replays the ones asked for, once per request, audited", async () => {
    const store = createStreamStore(database.db);
    await store.ensureIndexes();
    const admin = adminService({ service: "test", connection, queues: [queue], store, publish });
    const accepted = (orderId: string) =>
      create(OrderAcceptedSchema, {
        order: { orderId, shipTo: { recipient: "Jane Doe", lines: ["1 Main St"], regionCode: "US" } },
      });
    const first = await emitter.emit("order:bad-1", OrderAcceptedSchema, accepted("bad-1"));
    const good = await emitter.emit("order:good-1", OrderAcceptedSchema, accepted("good-1"));
    const second = await emitter.emit("order:bad-2", OrderAcceptedSchema, accepted("bad-2"));
    const list = () =>
      admin.listParkedMessages?.(create(ListParkedMessagesRequestSchema, { queue }), noContext) as Promise<{
        messages: Array<{
          eventId: string;
          failureReason: string;
          attempts: number;
          dataJson: string;
          type: string;
        }>;
        parked: Record<string, number>;
      }>;
    const parked = await eventually(async () => {
      const answer = await list();
      return answer.messages.length === 2 ? answer : undefined;
    });
    expect(handled).toContain(good);
    expect(parked.parked).toEqual({ [queue]: 2 });
    // Parked in the order the consumer gave up on them (it handles a window of messages side by side).
    const inParking = parked.messages.map((m) => m.eventId);
    expect([...inParking].sort()).toEqual([first, second].sort());
    expect(parked.messages.map((m) => [m.type, m.attempts])).toEqual([
      ["retail.order.v1.OrderAccepted", 1],
      ["retail.order.v1.OrderAccepted", 1],
    ]);
    const ofFirst = parked.messages.find((m) => m.eventId === first);
    expect(ofFirst?.failureReason).toContain("no reader for this body yet");
    expect(ofFirst?.dataJson).toContain("bad-1");
    expect(ofFirst?.dataJson).not.toContain("Jane Doe");
    expect(ofFirst?.dataJson).not.toContain("1 Main St");
    // Reading the parking queue leaves it as it was, in its order.
    expect((await list()).messages.map((m) => m.eventId)).toEqual(inParking);
    // The status counts them too, beside the consumer and the empty main and retry queues.
    const status = (await admin.getStatus?.(create(GetStatusRequestSchema), noContext)) as {
      service: string;
      queues: Array<{ queue: string; ready: bigint; consumers: number; retrying: bigint; parked: bigint }>;
    };
    expect(status.service).toBe("test");
    expect(status.queues).toEqual([{ queue, ready: 0n, consumers: 1, retrying: 0n, parked: 2n }]);

    fixed = true;
    const replay = (requestId: string, eventIds: string[]) =>
      admin.replayParkedMessages?.(
        create(ReplayParkedMessagesRequestSchema, { requestId, queue, eventIds, reason: "reader deployed" }),
        noContext,
      ) as Promise<{ replayed: number; kept: number; repeatedRequest: boolean }>;
    expect(await replay("r-1", [second])).toEqual({ replayed: 1, kept: 1, repeatedRequest: false });
    await eventually(() => (handled.includes(second) ? true : undefined));
    expect(handled).not.toContain(first);
    // The same request again moves nothing more and says so.
    expect(await replay("r-1", [second])).toEqual({ replayed: 1, kept: 0, repeatedRequest: true });
    expect((await list()).messages.map((m) => m.eventId)).toEqual([first]);
    // The audit record, in the stream store (published with the service's events).
    const [audit] = await store.read(`admin-replay:${queue}:r-1`);
    expect(audit?.routingKey).toBe("admin.parked_messages_replayed");
    expect(fromBinary(ParkedMessagesReplayedSchema, audit?.data ?? new Uint8Array())).toMatchObject({
      service: "test",
      queue,
      eventIds: [second],
      replayed: 1,
      reason: "reader deployed",
      requestId: "r-1",
    });
    // Every one left, and nothing when none is.
    expect(await replay("r-2", [])).toEqual({ replayed: 1, kept: 0, repeatedRequest: false });
    await eventually(() => (handled.includes(first) ? true : undefined));
    expect((await list()).parked).toEqual({ [queue]: 0 });
  });

  it("refuses a queue that is not the service's, naming the field", async () => {
    const admin = adminService({
      service: "test",
      connection,
      queues: [queue],
      store: createStreamStore(database.db),
      publish,
    });
    await expect(
      admin.listParkedMessages?.(
        create(ListParkedMessagesRequestSchema, { queue: "other.queue" }),
        noContext,
      ),
    ).rejects.toMatchObject({
      violations: [{ field: "queue", description: expect.stringContaining(queue) }],
    });
  });

  it("publishes an aggregate's events again, in order with their own ids, once per request, audited", async () => {
    const store = createStreamStore(database.db);
    const admin = adminService({ service: "test", connection, queues: [queue], store, publish });
    const streamId = `order:${uniqueName("again")}`;
    await store.append(streamId, 0, [
      event(OrderAcceptedSchema, create(OrderAcceptedSchema, { order: { orderId: "again-1" } })),
      event(OrderAcceptedSchema, create(OrderAcceptedSchema, { order: { orderId: "again-1" } })),
    ]);
    const stored = await store.read(streamId);
    const capture = await captureEvents(testAmqpUrl(), exchange, ["order.#"]);
    const republish = (requestId: string, stream = streamId) =>
      admin.republishAggregate?.(
        create(RepublishAggregateRequestSchema, {
          requestId,
          streamId: stream,
          reason: "new ERP subscriber",
        }),
        noContext,
      ) as Promise<{ events: number; repeatedRequest: boolean }>;
    expect(await republish("p-1")).toEqual({ events: 2, repeatedRequest: false });
    expect(await republish("p-1")).toEqual({ events: 2, repeatedRequest: true });
    await eventually(() =>
      capture.events.filter((e) => e.subject === streamId).length >= 2 ? true : undefined,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Each once (the repeat published nothing), in order, under their stored ids.
    const again = capture.events.filter((e) => e.subject === streamId);
    expect(again.map((e) => e.id)).toEqual(stored.map((e) => e.eventId));
    const [audit] = await store.read("admin-republish:p-1");
    expect(fromBinary(AggregateRepublishedSchema, audit?.data ?? new Uint8Array())).toMatchObject({
      service: "test",
      streamId,
      events: 2,
      reason: "new ERP subscriber",
    });
    await expect(republish("p-2", "order:nothing-here")).rejects.toMatchObject({ code: Code.NotFound });
    await capture.close();
  });
});

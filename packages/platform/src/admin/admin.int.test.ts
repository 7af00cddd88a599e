import { create, fromBinary } from "@bufbuild/protobuf";
import { ParkedMessagesReplayedSchema } from "@retail/contracts/retail/admin/v1/admin_pb";
import {
  ListParkedMessagesRequestSchema,
  ReplayParkedMessagesRequestSchema,
} from "@retail/contracts/retail/admin/v1/admin_service_pb";
import { OrderAcceptedSchema } from "@retail/contracts/retail/order/v1/order_events_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeThen, UndecodableMessage } from "../amqp/cloudevents.js";
import { type AmqpConnectionManager, connectAmqp } from "../amqp/connection.js";
import { type Consumer, startConsumer } from "../amqp/consumer.js";
import { createLogger } from "../log/index.js";
import { createMetrics } from "../metrics/index.js";
import { createStreamStore } from "../store/stream-store.js";
import {
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
// The consumer's cause of failure, fixed by the test before the replay.
let fixed = false;
const handled: string[] = [];

beforeAll(async () => {
  connection = connectAmqp(testAmqpUrl(), { name: "admin-test", logger });
  database = await createTestDatabase("admin");
  emitter = createEmitter(testAmqpUrl(), exchange);
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
  await connection?.close();
  await database?.drop();
  await deleteConsumerQueues(testAmqpUrl(), queue, exchange);
});

const noContext = {} as never;

describe("admin RPCs", () => {
  it("lists parked messages decoded without personal data, and replays the ones asked for, once per request, audited", async () => {
    const store = createStreamStore(database.db);
    await store.ensureIndexes();
    const admin = adminService({ service: "test", connection, queues: [queue], store });
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
    expect(parked.messages.map((m) => [m.eventId, m.type, m.attempts])).toEqual([
      [first, "retail.order.v1.OrderAccepted", 1],
      [second, "retail.order.v1.OrderAccepted", 1],
    ]);
    expect(parked.messages[0]?.failureReason).toContain("no reader for this body yet");
    expect(parked.messages[0]?.dataJson).toContain("bad-1");
    expect(parked.messages[0]?.dataJson).not.toContain("Jane Doe");
    expect(parked.messages[0]?.dataJson).not.toContain("1 Main St");
    // Reading the parking queue leaves it as it was, in its order.
    expect((await list()).messages.map((m) => m.eventId)).toEqual([first, second]);

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
});

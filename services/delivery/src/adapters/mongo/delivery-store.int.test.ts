import { createTestDatabase } from "@retail/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeliveryRecord } from "../../app/ports.js";
import { createDeliveryStore } from "./delivery-store.js";

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let store: ReturnType<typeof createDeliveryStore>;
beforeAll(async () => {
  database = await createTestDatabase("delivery_store");
  store = createDeliveryStore(database.db);
  await store.ensureIndexes();
});
afterAll(async () => database?.drop());

const t0 = new Date("2026-11-28T10:00:00Z");
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);

function record(
  subscriptionId: string,
  eventId: string,
  sequence: number,
  extra: Partial<DeliveryRecord> = {},
): DeliveryRecord {
  return {
    deliveryId: `${subscriptionId}:${eventId}`,
    subscriptionId,
    eventId,
    type: "retail.order.v1.OrderAccepted",
    routingKey: "order.order_accepted",
    source: "order",
    aggregateId: "order:o1",
    sequence,
    eventTime: at(sequence),
    correlationId: "c",
    data: new Uint8Array([1, 2, sequence]),
    facts: { channels: [], channelIds: [], locationIds: [] },
    awaitingFacts: false,
    customerIds: [],
    state: "pending",
    attempts: 0,
    nextAttemptAt: t0,
    deliveredAt: undefined,
    lastStatus: 0,
    lastError: "",
    ...extra,
  };
}

describe("the delivery store", () => {
  it("records an event once per subscription and hands out the oldest pending first", async () => {
    await store.record([record("a", "e2", 2), record("a", "e1", 1), record("b", "e1", 1)]);
    await store.record([record("a", "e1", 1, { attempts: 9 })]);
    const pending = await store.pending("a", 10);
    expect(pending.map((d) => [d.eventId, d.attempts])).toEqual([
      ["e1", 0],
      ["e2", 0],
    ]);
    expect(pending[0]?.data).toEqual(new Uint8Array([1, 2, 1]));
  });

  it("keeps a failed delivery pending until its next attempt, dead after the last, and replays by id, dead or time", async () => {
    await store.record([record("r", "e1", 1), record("r", "e2", 2), record("r", "e3", 3)]);
    await store.failed("r:e1", 1, at(60), 500, "HTTP 500");
    await store.failed("r:e2", 4, undefined, 0, "no answer within 1000 ms");
    await store.delivered("r:e3", 1, 204, at(5));
    const listed = await store.list("r", undefined, 10, "");
    expect(listed.deliveries.map((d) => [d.eventId, d.state, d.attempts, d.lastStatus])).toEqual([
      ["e1", "pending", 1, 500],
      ["e2", "dead", 4, 0],
      ["e3", "delivered", 1, 204],
    ]);
    expect((await store.list("r", "dead", 10, "")).deliveries.map((d) => d.lastError)).toEqual([
      "no answer within 1000 ms",
    ]);
    expect(await store.replay("r", { kind: "dead" }, at(100))).toBe(1);
    expect(await store.replay("r", { kind: "ids", deliveryIds: ["r:e3", "r:e3", "r:nope"] }, at(100))).toBe(
      1,
    );
    expect(await store.replay("r", { kind: "since", since: at(2) }, at(100))).toBe(2);
    const again = await store.pending("r", 10);
    expect(again.map((d) => [d.eventId, d.attempts, d.nextAttemptAt.getTime()])).toEqual([
      ["e1", 1, at(60).getTime()],
      ["e2", 0, at(100).getTime()],
      ["e3", 0, at(100).getTime()],
    ]);
  });

  it("settles a delivery awaiting its facts, or drops it while it is pending", async () => {
    await store.record([
      record("w", "e1", 1, {
        awaitingFacts: true,
        facts: { channels: ["CHANNEL_WEB"], channelIds: [], locationIds: [] },
      }),
      record("w", "e2", 2, { awaitingFacts: true }),
    ]);
    await store.settle("w:e1");
    await store.drop("w:e2");
    const pending = await store.pending("w", 10);
    expect(pending.map((d) => [d.eventId, d.awaitingFacts, d.facts.channels])).toEqual([
      ["e1", false, ["CHANNEL_WEB"]],
    ]);
    await store.delivered("w:e1", 1, 204, at(1000));
    await store.drop("w:e1");
    expect((await store.list("w", undefined, 10, "")).deliveries.map((d) => d.state)).toEqual(["delivered"]);
  });

  it("pages by event time", async () => {
    await store.record([1, 2, 3, 4, 5].map((n) => record("p", `e${n}`, n)));
    const first = await store.list("p", undefined, 2, "");
    const second = await store.list("p", undefined, 2, first.nextPageToken);
    const third = await store.list("p", undefined, 2, second.nextPageToken);
    expect([first, second, third].flatMap((page) => page.deliveries.map((d) => d.eventId))).toEqual([
      "e1",
      "e2",
      "e3",
      "e4",
      "e5",
    ]);
    expect(third.nextPageToken).toBe("");
  });

  it("forgets delivered deliveries past retention, never pending or dead ones", async () => {
    await store.record([
      record("f", "old", 1),
      record("f", "new", 2),
      record("f", "dead", 3),
      record("f", "wait", 4),
    ]);
    await store.delivered("f:old", 1, 204, at(10));
    await store.delivered("f:new", 1, 204, at(1000));
    await store.failed("f:dead", 4, undefined, 500, "HTTP 500");
    expect(await store.forgetDelivered(at(500))).toBe(1);
    expect((await store.list("f", undefined, 10, "")).deliveries.map((d) => d.eventId)).toEqual([
      "new",
      "dead",
      "wait",
    ]);
  });

  it("rewrites the stored events naming an erased customer", async () => {
    await store.record([record("x", "e1", 1, { customerIds: ["c9"] }), record("x", "e2", 2)]);
    const seen: string[] = [];
    const erased = await store.eraseCustomer("c9", (type) => {
      seen.push(type);
      return new Uint8Array([0]);
    });
    expect(erased).toBe(1);
    expect(seen).toEqual(["retail.order.v1.OrderAccepted"]);
    const [first, second] = (await store.list("x", undefined, 10, "")).deliveries;
    expect([first?.data, first?.customerIds, second?.data]).toEqual([
      new Uint8Array([0]),
      [],
      new Uint8Array([1, 2, 2]),
    ]);
  });
});

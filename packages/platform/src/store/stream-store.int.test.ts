import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { StockMovementRecordedSchema } from "@retail/contracts/retail/inventory/v1/inventory_events_pb";
import { MovementType, StockMovementSchema } from "@retail/contracts/retail/inventory/v1/inventory_pb";
import type { Db } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callContextFrom, runWithCallContext } from "../rpc/context.js";
import { createTestDatabase } from "../testing/index.js";
import { ConcurrencyConflict, IdempotencyKeyReused } from "./errors.js";
import { event } from "./events.js";
import { fingerprint, internalRequest, requestKey } from "./requests.js";
import { createStreamStore, type StreamStore } from "./stream-store.js";

const movement = (id: string, quantity: number) =>
  create(StockMovementSchema, {
    movementId: id,
    type: MovementType.GOODS_RECEIPT,
    sku: "SKU-1",
    locationId: "DC-1",
    quantity: BigInt(quantity),
  });
const recorded = (id: string, quantity = 1) =>
  event(
    StockMovementRecordedSchema,
    create(StockMovementRecordedSchema, { movement: movement(id, quantity) }),
  );

let store: StreamStore;
let drop: () => Promise<void>;
let db: Db;

beforeAll(async () => {
  const database = await createTestDatabase("streams");
  drop = database.drop;
  db = database.db;
  store = createStreamStore(database.db);
  await store.ensureIndexes();
});
afterAll(() => drop());

describe("stream store", () => {
  it("reads a stream after any version: at a commit's end, inside a commit, past a long tail, past the end", async () => {
    // A collection of its own: the other tests count the outbox.
    const store = createStreamStore(db, { collection: "tail_commits" });
    await store.ensureIndexes();
    const id = "tail:stock:SKU-1@DC-1";
    // Versions 1-2 in one commit, then twelve commits of one event each (3..14).
    await store.append(id, 0, [recorded("tail-1"), recorded("tail-2")]);
    for (let v = 2; v < 14; v++) await store.append(id, v, [recorded(`tail-${v + 1}`)]);
    const versionsAfter = async (after: number) => (await store.read(id, after)).map((e) => e.version);
    const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
    expect(await versionsAfter(0)).toEqual(range(1, 14));
    expect(await versionsAfter(14)).toEqual([]);
    expect(await versionsAfter(12)).toEqual([13, 14]);
    expect(await versionsAfter(1)).toEqual(range(2, 14)); // inside the first commit
    expect(await versionsAfter(2)).toEqual(range(3, 14)); // a tail longer than the hops it follows
    expect(await versionsAfter(20)).toEqual([]);
    // From a state's version (it ends a commit): the same answers.
    const fromState = async (after: number) =>
      (await store.read(id, after, { endsCommit: true })).map((e) => e.version);
    expect(await fromState(14)).toEqual([]);
    expect(await fromState(12)).toEqual([13, 14]);
    expect(await fromState(2)).toEqual(range(3, 14));
  });

  it("names the streams of a prefix recorded since a time, minute by minute or, hours back, by range", async () => {
    // A collection of its own: the other tests count the outbox.
    const store = createStreamStore(db, { collection: "since_commits" });
    await store.ensureIndexes();
    await store.append("since:stock:old", 0, [recorded("since-old")]);
    // Recorded in an earlier minute, as a commit of three minutes ago would be.
    const threeMinutesAgo = new Date(Date.now() - 180_000);
    await db
      .collection("since_commits")
      .updateOne(
        { streamId: "since:stock:old" },
        { $set: { recordedAt: threeMinutesAgo, recordedMinute: threeMinutesAgo.toISOString().slice(0, 16) } },
      );
    const since = new Date(Date.now() - 1);
    await store.append("since:stock:a", 0, [recorded("since-a")]);
    await store.append("since:stock:b", 0, [recorded("since-b")]);
    await store.append("since:stock:b", 1, [recorded("since-b2")]);
    await store.append("since:reservation:x", 0, [recorded("since-x")]);
    expect((await store.streamsRecordedSince("since:stock:", since)).sort()).toEqual([
      "since:stock:a",
      "since:stock:b",
    ]);
    expect((await store.streamsRecordedSince("since:stock:", new Date(Date.now() - 240_000))).sort()).toEqual(
      ["since:stock:a", "since:stock:b", "since:stock:old"],
    );
    const hoursBack = new Date(Date.now() - 3 * 3_600_000);
    expect((await store.streamsRecordedSince("since:stock:", hoursBack)).sort()).toEqual([
      "since:stock:a",
      "since:stock:b",
      "since:stock:old",
    ]);
  });

  it("lets exactly one of 50 concurrent appends at the same expected version win", async () => {
    const streamId = "SKU-1@DC-1";
    await store.append(streamId, 0, [recorded("m0")]);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => store.append(streamId, 1, [recorded(`m${i + 1}`)])),
    );
    const won = outcomes.filter((o) => o.status === "fulfilled");
    const conflicts = outcomes.filter(
      (o) => o.status === "rejected" && o.reason instanceof ConcurrencyConflict,
    );
    expect(won).toHaveLength(1);
    expect(conflicts).toHaveLength(49);
    const events = await store.read(streamId);
    expect(events.map((e) => e.version)).toEqual([1, 2]);
    // Only the two commits that landed wait for the relay.
    expect(await store.unpublishedCount()).toBe(2);
  });

  it("appends a multi-event commit atomically and reads it back in order with stamped metadata", async () => {
    const streamId = "SKU-2@DC-1";
    const context = callContextFrom("corr-42", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    const result = await runWithCallContext(context, () =>
      store.append(streamId, 0, [recorded("a", 5), recorded("b", 7), recorded("c", 9)]),
    );
    expect(result.version).toBe(3);
    const events = await store.read(streamId);
    expect(events.map((e) => [e.version, e.type, e.routingKey])).toEqual([
      [1, "retail.inventory.v1.StockMovementRecorded", "inventory.stock_movement_recorded"],
      [2, "retail.inventory.v1.StockMovementRecorded", "inventory.stock_movement_recorded"],
      [3, "retail.inventory.v1.StockMovementRecorded", "inventory.stock_movement_recorded"],
    ]);
    const second = fromBinary(StockMovementRecordedSchema, events[1]?.data ?? new Uint8Array());
    expect(second.movement?.quantity).toBe(7n);
    expect(second.metadata?.aggregateId).toBe(streamId);
    expect(second.metadata?.aggregateVersion).toBe(2n);
    expect(second.metadata?.correlationId).toBe("corr-42");
    expect(second.metadata?.eventId).toBe(events[1]?.eventId);
    expect(events[0]?.traceparent).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
    expect((await store.read(streamId, 2)).map((e) => e.version)).toEqual([3]);
  });

  it("returns the first result for a replayed request id and writes nothing new", async () => {
    const streamId = "SKU-3@DC-1";
    const payload = toBinary(StockMovementSchema, movement("r1", 4));
    const request = {
      key: requestKey("test.Record", "req-1"),
      fingerprint: fingerprint(StockMovementSchema, movement("r1", 4)),
      result: payload,
    };
    const first = await store.append(streamId, 0, [recorded("r1", 4)], { request });
    expect(first.replayed).toBe(false);

    expect(await store.findRequest(request)).toMatchObject({ replayed: true, version: 1 });
    // A racing duplicate that read the stream before the first commit landed.
    const replay = await store.append(streamId, 0, [recorded("r1", 4)], { request });
    expect(replay.replayed).toBe(true);
    expect(replay.events.map((e) => e.eventId)).toEqual(first.events.map((e) => e.eventId));
    expect(replay.result && fromBinary(StockMovementSchema, replay.result).quantity).toBe(4n);
    // Even at a later version the key still answers with the first result.
    const late = await store.append(streamId, 1, [recorded("r1", 4)], { request });
    expect(late.replayed).toBe(true);
    expect(await store.read(streamId)).toHaveLength(1);
  });

  it("keeps the outbox marker of a commit that landed though its insert answered an error", async () => {
    // Found by the fault run (PostgreSQL stopped under load): the append dropped the marker on any
    // error, so a commit the storage kept while the answer was lost was never published, and the
    // caller's retry replayed it as done. A shipment never reached inventory.
    const lostAnswer = new Proxy(db, {
      get(target, property) {
        if (property !== "collection") return Reflect.get(target, property);
        return (name: string) => {
          const real = target.collection(name);
          if (name !== "lost") return real;
          return new Proxy(real, {
            get(collection, key) {
              if (key !== "insertOne") {
                const value = Reflect.get(collection, key);
                return typeof value === "function" ? value.bind(collection) : value;
              }
              return async (...args: Parameters<typeof real.insertOne>) => {
                await collection.insertOne(...args);
                throw new Error("connection reset by peer");
              };
            },
          });
        };
      },
    });
    const flaky = createStreamStore(lostAnswer, { collection: "lost" });
    const steady = createStreamStore(db, { collection: "lost" });
    await steady.ensureIndexes();
    const request = {
      key: requestKey("test.Lost", "req-lost"),
      fingerprint: fingerprint(StockMovementSchema, movement("lost", 2)),
    };
    await expect(flaky.append("SKU-L@DC-1", 0, [recorded("lost", 2)], { request })).rejects.toThrow(
      "connection reset",
    );
    // The commit is there and its marker too: the relay finds the commit behind it and publishes it.
    const [marker] = await steady.outboxBatch(10);
    expect([marker?.streamId, marker?.ready]).toEqual(["SKU-L@DC-1", false]);
    expect(await steady.hasCommit(marker?._id ?? "")).toBe(true);
    // The caller's retry is answered as the first, and no second commit is made.
    expect((await steady.append("SKU-L@DC-1", 0, [recorded("lost", 2)], { request })).replayed).toBe(true);
    expect(await steady.read("SKU-L@DC-1")).toHaveLength(1);
  });

  it("reads a stream and tells, in the same read, whether a request was applied on it", async () => {
    const streamId = "SKU-7@DC-1";
    const request = {
      key: requestKey("test.Record", "req-5"),
      fingerprint: internalRequest("five").fingerprint,
    };
    await store.append(streamId, 0, [recorded("before", 1)]);
    const fresh = await store.readFor(streamId, request);
    expect(fresh.applied).toBeUndefined();
    expect(fresh.events.map((e) => e.version)).toEqual([1]);

    const first = await store.append(streamId, 1, [recorded("f", 2)], { request });
    await store.append(streamId, 2, [recorded("after", 3)]);
    const again = await store.readFor(streamId, request);
    expect(again.applied).toMatchObject({ replayed: true, version: 2 });
    expect(again.applied?.events.map((e) => e.eventId)).toEqual(first.events.map((e) => e.eventId));
    expect(again.events.map((e) => e.version)).toEqual([1, 2, 3]);
    // The same key with another payload is refused, as findRequest would.
    await expect(
      store.readFor(streamId, { key: request.key, fingerprint: internalRequest("six").fingerprint }),
    ).rejects.toBeInstanceOf(IdempotencyKeyReused);
    // A request applied on another stream is not this stream's: the append finds it instead.
    expect((await store.readFor("SKU-6@DC-1", request)).applied).toBeUndefined();
    expect((await store.append("SKU-6@DC-1", 0, [recorded("f", 2)], { request })).replayed).toBe(true);
  });

  it("refuses a request id reused with another payload", async () => {
    const streamId = "SKU-4@DC-1";
    const key = requestKey("test.Record", "req-2");
    await store.append(streamId, 0, [recorded("x", 1)], {
      request: { key, fingerprint: internalRequest("one").fingerprint },
    });
    const other = { key, fingerprint: internalRequest("two").fingerprint };
    await expect(store.findRequest(other)).rejects.toBeInstanceOf(IdempotencyKeyReused);
    await expect(store.append(streamId, 1, [recorded("x", 2)], { request: other })).rejects.toBeInstanceOf(
      IdempotencyKeyReused,
    );
    expect(await store.read(streamId)).toHaveLength(1);
  });

  it("replays a commit written before fingerprints were one by its key alone (its old hash cannot be compared)", async () => {
    const key = requestKey("test.Record", "req-legacy");
    await store.append("SKU-legacy@DC-1", 0, [recorded("l1")], { request: { key, fingerprint: "new" } });
    // What an earlier release stored: a hash of its own kind under requestHash, no fingerprint.
    await db
      .collection<{ _id: string }>("commits")
      .updateOne({ _id: key }, { $unset: { requestFingerprint: "" }, $set: { requestHash: "legacy" } });
    const retried = { key, fingerprint: fingerprint(StockMovementSchema, movement("l1", 1)) };
    expect(await store.findRequest(retried)).toMatchObject({ replayed: true, version: 1 });
    expect((await store.append("SKU-legacy@DC-1", 1, [recorded("l1")], { request: retried })).replayed).toBe(
      true,
    );
    expect(await store.read("SKU-legacy@DC-1")).toHaveLength(1);
  });

  it("appends many commits at once, each item succeeding, replaying or conflicting on its own", async () => {
    await store.append("bulk-taken", 0, [recorded("t1")]);
    const request = { key: requestKey("test.Bulk", "b-1"), fingerprint: internalRequest("same").fingerprint };
    await store.append("bulk-replayed", 0, [recorded("r1")], { request });
    const before = await store.unpublishedCount();
    const results = await store.appendMany([
      { streamId: "bulk-new-1", expectedVersion: 0, events: [recorded("n1", 3)] },
      { streamId: "bulk-taken", expectedVersion: 0, events: [recorded("t2")] },
      { streamId: "bulk-replayed", expectedVersion: 0, events: [recorded("r1")], options: { request } },
      { streamId: "bulk-new-2", expectedVersion: 0, events: [recorded("n2"), recorded("n3")] },
    ]);
    expect(
      results.map((r) => (r instanceof Error ? r.constructor.name : r.replayed ? "replayed" : r.version)),
    ).toEqual([1, "ConcurrencyConflict", "replayed", 2]);
    expect((await store.read("bulk-new-2")).map((e) => e.version)).toEqual([1, 2]);
    expect((await store.read("bulk-taken")).map((e) => e.version)).toEqual([1]);
    expect(await store.unpublishedCount()).toBe(before + 2);
  });

  it("loads the newest snapshot plus the events after it", async () => {
    const streamId = "SKU-5@DC-1";
    await store.append(streamId, 0, [recorded("s1"), recorded("s2"), recorded("s3"), recorded("s4")]);
    await store.append(streamId, 4, [recorded("s5")]);
    await store.saveSnapshot(streamId, { version: 4, state: { onHand: 10 } });
    await store.saveSnapshot(streamId, { version: 2, state: { onHand: 3 } });
    const loaded = await store.load<{ onHand: number }>(streamId);
    expect(loaded.snapshot).toEqual({ version: 4, state: { onHand: 10 } });
    expect(loaded.tail.map((e) => e.version)).toEqual([5]);
    expect(loaded.version).toBe(5);
    expect(await store.load("nothing")).toEqual({ snapshot: undefined, tail: [], version: 0 });
  });
});

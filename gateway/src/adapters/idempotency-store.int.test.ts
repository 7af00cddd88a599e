// The Idempotency-Key store on the real database: one first of concurrent starts, replays after, and
// erasure dropping exactly the answers that name the erased customer.
import { createTestDatabase, eventually, startTcpProxy, testMongoUrl } from "@retail/platform/testing";
import { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIdempotencyStore } from "./idempotency-store.js";

let database: Awaited<ReturnType<typeof createTestDatabase>>;

beforeAll(async () => {
  database = await createTestDatabase("gateway_idem");
});
afterAll(() => database?.drop());

describe("Idempotency-Key store", () => {
  it("starts one of ten concurrent firsts, then replays the stored answer", async () => {
    const store = createIdempotencyStore(database.db, { staleAfterMs: 60_000, retentionMs: 60_000 });
    const starts = await Promise.all(Array.from({ length: 10 }, () => store.start("ops:k1", "f1")));
    expect(starts.filter((s) => s.kind === "started")).toHaveLength(1);
    expect(starts.filter((s) => s.kind === "in-flight")).toHaveLength(9);
    await store.complete("ops:k1", { status: 200, body: '{"ok":true}' });
    expect(await store.start("ops:k1", "f1")).toEqual({
      kind: "replay",
      response: { status: 200, body: '{"ok":true}' },
    });
    expect(await store.start("ops:k1", "f2")).toEqual({ kind: "fingerprint-mismatch" });
  });

  it("drops the stored answers that name an erased customer, and only those", async () => {
    const store = createIdempotencyStore(database.db, { staleAfterMs: 60_000, retentionMs: 60_000 });
    for (const [key, body] of [
      ["ops:a", '{"order":{"customerId":"cus-1.2","shipTo":{"recipient":"Ada"}}}'],
      ["ops:b", '{"order":{"customerId":"cus-192"}}'],
      ["ops:c", '{"customer":{"customerId":"cus-1.2"}}'],
    ] as const) {
      await store.start(key, "f");
      await store.complete(key, { status: 200, body });
    }
    // "cus-1.2" as a pattern would match "cus-192" too: it is matched as text.
    expect(await store.forgetAnswersNaming("cus-1.2")).toBe(2);
    expect((await store.start("ops:b", "f")).kind).toBe("replay");
    expect((await store.start("ops:a", "f")).kind).toBe("started");
  });

  it("lets go of a key, or stores its answer, once the database is back, when it was away as the attempt ended", async () => {
    const target = new URL(testMongoUrl().replace(/^mongodb:/, "http:"));
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 27017) });
    const url = new URL(testMongoUrl());
    url.host = `127.0.0.1:${proxy.port}`;
    const client = new MongoClient(url.toString(), { serverSelectionTimeoutMS: 300 });
    try {
      await client.connect();
      // A minute before a key left in flight would be taken over: the test must not wait for that.
      const store = createIdempotencyStore(client.db(database.db.databaseName), {
        staleAfterMs: 60_000,
        retentionMs: 60_000,
      });
      expect((await store.start("ops:away-1", "f")).kind).toBe("started");
      expect((await store.start("ops:away-2", "f")).kind).toBe("started");
      await proxy.cut();
      // Neither fails for the caller: the call's own outcome is what the client hears.
      await store.abandon("ops:away-1");
      await store.complete("ops:away-2", { status: 200, body: '{"done":true}' });
      await expect(store.start("ops:away-3", "f")).rejects.toThrow();
      await proxy.restore();
      const started = Date.now();
      // While the driver finds the server again a start may fail, and until the background write
      // lands the key still reads in flight: the client retries either way (a start that finds the key
      // in flight changes nothing).
      const onceBack = (key: string, kind: string) =>
        eventually(async () => {
          const answer = await store.start(key, "f").catch(() => undefined);
          return answer?.kind === kind ? answer : undefined;
        }, 10_000);
      expect((await onceBack("ops:away-1", "started")).kind).toBe("started");
      expect(await onceBack("ops:away-2", "replay")).toEqual({
        kind: "replay",
        response: { status: 200, body: '{"done":true}' },
      });
      expect((await onceBack("ops:away-3", "started")).kind).toBe("started");
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await client.close(true);
      await proxy.close();
    }
  });
});

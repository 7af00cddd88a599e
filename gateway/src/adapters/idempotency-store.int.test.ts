// The Idempotency-Key store on the real database: one first of concurrent starts, replays after, and
// erasure dropping exactly the answers that name the erased customer.
import { createTestDatabase } from "@retail/platform/testing";
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
});

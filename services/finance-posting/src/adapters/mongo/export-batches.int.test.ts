// ERP export batches on the real store: two batches claiming the same entries at once share none,
// and a batch begun and never finished is found again with what it claimed.
import { createTestDatabase } from "@retail/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createExportBatches } from "./export-batches.js";

let database: Awaited<ReturnType<typeof createTestDatabase>>;

beforeAll(async () => {
  database = await createTestDatabase("finance_batches");
});
afterAll(() => database?.drop());

describe("export batches", () => {
  it("gives each entry to exactly one of two batches claiming at once", async () => {
    const batches = createExportBatches(database.db);
    const ids = Array.from({ length: 20 }, (_, i) => `je-${i}`);
    await database.db.collection<{ _id: string }>("entries").insertMany(ids.map((_id) => ({ _id })));
    const [a, b] = await Promise.all([
      batches.claim("batch-a", ids),
      batches.claim("batch-b", [...ids].reverse()),
    ]);
    expect(a.filter((id) => b.includes(id))).toEqual([]);
    expect([...a, ...b].sort()).toEqual([...ids].sort());
    expect(await batches.claimedBy("batch-a")).toEqual([...a].sort());
    const left = await database.db.collection("entries").countDocuments({ batchId: { $exists: false } });
    expect(left).toBe(0);
  });

  it("finds a batch begun and not finished, and forgets it once finished", async () => {
    const batches = createExportBatches(database.db);
    const startedAt = new Date(Date.now() - 120_000);
    await batches.begin({
      requestKey: "req-1",
      batchId: "batch-1",
      adapter: "netsuite-csv",
      startedAt,
      fingerprint: "fp-1",
    });
    expect(await batches.byRequest("req-1")).toBeUndefined();
    expect((await batches.unfinished(new Date())).map((u) => u.batchId)).toEqual(["batch-1"]);
    await batches.save("req-1", {
      batchId: "batch-1",
      adapter: "netsuite-csv",
      entryIds: ["je-x"],
      location: "/tmp/x.csv",
      exportedAt: new Date(),
    });
    expect(await batches.unfinished(new Date())).toEqual([]);
    expect(await batches.byRequest("req-1")).toMatchObject({
      batchId: "batch-1",
      entryIds: ["je-x"],
      fingerprint: "fp-1",
    });
  });
});

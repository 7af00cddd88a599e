import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../testing/index.js";
import { createInbox, openInbox } from "./inbox.js";

let database: Awaited<ReturnType<typeof createTestDatabase>>;
beforeAll(async () => {
  database = await createTestDatabase("inbox");
});
afterAll(() => database.drop());

describe("inbox", () => {
  it("remembers handled event ids per consumer, tolerates recording twice, and purges by age", async () => {
    const order = createInbox(database.db, "order.inventory-events");
    const finance = createInbox(database.db, "finance.order-events");
    await order.ensureIndexes();
    await order.record("e-1");
    await order.record("e-1");
    expect(await order.has("e-1")).toBe(true);
    expect(await finance.has("e-1")).toBe(false);

    await finance.record("e-1");
    expect(await order.purgeOlderThan(new Date(Date.now() - 60_000))).toBe(0);
    expect(await order.purgeOlderThan(new Date(Date.now() + 1_000))).toBe(1);
    expect(await order.has("e-1")).toBe(false);
    expect(await finance.has("e-1")).toBe(true);
  });

  it("opens a consumer's inbox indexed, with a janitor that purges records past retention until closed", async () => {
    const inbox = await openInbox(database.db, "inventory.customer-events", {
      retentionMs: 0,
      intervalMs: 50,
    });
    const indexes = await database.db.collection("inbox").listIndexes().toArray();
    expect(indexes.map((index) => index.name)).toContain("consumer_age");

    await inbox.record("e-old");
    await expect.poll(() => inbox.has("e-old"), { timeout: 5_000 }).toBe(false);
    inbox.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    await inbox.record("e-kept");
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await inbox.has("e-kept")).toBe(true);
  });
});

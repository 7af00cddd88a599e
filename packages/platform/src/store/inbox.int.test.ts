import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../testing/index.js";
import { createInbox } from "./inbox.js";

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
});

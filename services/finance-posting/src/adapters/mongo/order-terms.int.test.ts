import { createTestDatabase } from "@retail/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOrderTerms } from "./order-terms.js";

let database: Awaited<ReturnType<typeof createTestDatabase>>;
beforeAll(async () => {
  database = await createTestDatabase("order_terms");
});
afterAll(() => database.drop());

describe("order terms", () => {
  it("keeps the first terms of an order, from memory and from storage alike", async () => {
    const first = { orderId: "o-1", channel: "web", storeId: "", currency: "USD", shipping: 500n };
    const here = createOrderTerms(database.db);
    const elsewhere = createOrderTerms(database.db); // another instance
    await here.save(first);
    await elsewhere.save({ ...first, shipping: 900n }); // a repeat with other terms
    await here.save({ ...first, currency: "EUR" });
    expect(await here.get("o-1")).toEqual(first);
    expect(await elsewhere.get("o-1")).toEqual(first);
    expect(await createOrderTerms(database.db).get("o-1")).toEqual(first);
    expect(await here.get("o-2")).toBeUndefined();
  });
});

import { create } from "@bufbuild/protobuf";
import { OrderSchema, OrderStatus } from "@retail/contracts/retail/order/v1/order_pb";
import { createTestDatabase } from "@retail/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOrderViews } from "./order-views.js";

let database: Awaited<ReturnType<typeof createTestDatabase>>;
beforeAll(async () => {
  database = await createTestDatabase("order_views");
});
afterAll(() => database.drop());

const order = (version: bigint, status: OrderStatus) =>
  create(OrderSchema, { orderId: "o-1", customerId: "c-1", version, status });

describe("the orders read model", () => {
  it("creates an order's document on its first save and never lets an older save overwrite a newer", async () => {
    const views = createOrderViews(database.db);
    await views.ensureIndexes();
    await views.save(order(2n, OrderStatus.ACCEPTED));
    await views.save(order(1n, OrderStatus.PENDING)); // finished late: stays unseen
    await views.save(order(2n, OrderStatus.PENDING)); // the same version again: the first stands
    let listed = await views.list({ customerId: "c-1" }, 10, "");
    expect(listed.orders.map((o) => [o.version, o.status])).toEqual([[2n, OrderStatus.ACCEPTED]]);
    await views.save(order(3n, OrderStatus.FULFILLED));
    listed = await views.list({ customerId: "c-1" }, 10, "");
    expect(listed.orders.map((o) => [o.version, o.status])).toEqual([[3n, OrderStatus.FULFILLED]]);
  });
});

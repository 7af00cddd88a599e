import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { LineStatus, OrderSchema, OrderStatus } from "@retail/contracts/retail/order/v1/order_pb";
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

  it("finds the orders whose ready pickups are past their deadline, and forgets an order once collected", async () => {
    const views = createOrderViews(database.db);
    await views.ensureIndexes();
    const now = new Date("2026-11-27T12:00:00Z");
    const pickup = (orderId: string, version: bigint, status: LineStatus, collectBy: Date) =>
      create(OrderSchema, {
        orderId,
        customerId: "c-2",
        version,
        status: OrderStatus.ACCEPTED,
        lines: [{ lineId: "1", status }],
        collectByTime: timestampFromDate(collectBy),
      });
    const hourAgo = new Date(now.getTime() - 3_600_000);
    const inAnHour = new Date(now.getTime() + 3_600_000);
    await views.save(pickup("late", 1n, LineStatus.READY_FOR_PICKUP, hourAgo));
    await views.save(pickup("on-time", 1n, LineStatus.READY_FOR_PICKUP, inAnHour));
    await views.save(pickup("not-ready", 1n, LineStatus.ACCEPTED, hourAgo));
    expect(await views.uncollected(now)).toEqual(["late"]);
    await views.save(pickup("late", 2n, LineStatus.PICKED_UP, hourAgo));
    expect(await views.uncollected(now)).toEqual([]);
    expect(await views.uncollected(new Date(inAnHour.getTime() + 1))).toEqual(["on-time"]);
  });
});

import { create } from "@bufbuild/protobuf";
import { LineStatus, OrderSchema, OrderStatus } from "@retail/contracts/retail/order/v1/order_pb";
import { describe, expect, it } from "vitest";
import { decideAcceptance, stockRefusalReason } from "./acceptance.js";

const pending = create(OrderSchema, {
  orderId: "o-1",
  channelOrderId: "c-1",
  status: OrderStatus.PENDING,
  lines: [{ lineId: "1", sku: "A", quantity: 1n, status: LineStatus.PENDING }],
});

describe("the end of an order's acceptance", () => {
  it("accepts with the customer and reservations found, every line accepted", () => {
    const decided = decideAcceptance(pending, { customerId: "c-9", reservationIds: ["r-1"], reasons: [] });
    expect(decided.$typeName).toBe("retail.order.v1.OrderAccepted");
    if (decided.$typeName !== "retail.order.v1.OrderAccepted") return;
    expect(decided.order).toMatchObject({
      customerId: "c-9",
      reservationIds: ["r-1"],
      status: OrderStatus.ACCEPTED,
    });
    expect(decided.order?.lines[0]?.status).toBe(LineStatus.ACCEPTED);
  });

  it("rejects with every reason, worded from typed refusals", () => {
    const reason = stockRefusalReason({
      kind: "insufficient-stock",
      shortages: [{ sku: "A", locationId: "", requested: 2n, available: 1n }],
    });
    const decided = decideAcceptance(pending, { customerId: "", reservationIds: [], reasons: [reason] });
    expect(decided).toMatchObject({
      orderId: "o-1",
      reasons: ["insufficient stock: A at any location requested 2, available 1"],
    });
  });
});

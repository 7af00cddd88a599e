import { create } from "@bufbuild/protobuf";
import { TaxHoldReleasedSchema } from "@retail/contracts/retail/order/v1/order_events_pb";
import { type Order, OrderStatus } from "@retail/contracts/retail/order/v1/order_pb";
import { RuleViolated } from "./errors.js";
import type { OrderEvent } from "./order.js";

/** Releases an order held for tax review: its tax as priced stands, and its acceptance goes on. */
export function releaseHold(order: Order, releasedBy: string, note: string): OrderEvent[] {
  if (order.status !== OrderStatus.PENDING || !order.taxHoldReason) {
    throw new RuleViolated("NOT_HELD_FOR_TAX", `order ${order.orderId} is not held for tax review`);
  }
  return [create(TaxHoldReleasedSchema, { orderId: order.orderId, releasedBy, note })];
}

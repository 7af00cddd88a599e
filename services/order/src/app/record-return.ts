import type { Order, Return } from "@retail/contracts/retail/order/v1/order_pb";
import type { RequestRef } from "@retail/platform/store";
import { receiveReturn } from "../domain/order-changes.js";
import { changeOrder } from "./change-order.js";
import type { OrderDeps } from "./ports.js";

/**
 * A return received: checked against what was delivered and recorded; inventory books the goods back
 * into stock (sellable or damaged) when it sees the order's OrderReturned event.
 */
export function recordReturn(
  deps: OrderDeps,
  request: RequestRef,
  orderId: string,
  ret: Return,
): Promise<Order> {
  return changeOrder(deps, {
    scope: "order.RecordReturn",
    request,
    orderId,
    decide: (order) => receiveReturn(order, ret, deps.clock.now()),
  });
}

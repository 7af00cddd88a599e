import type { Order } from "@retail/contracts/retail/order/v1/order_pb";
import type { RequestRef } from "@retail/platform/store";
import { markReady } from "../domain/order-changes.js";
import { changeOrder } from "./change-order.js";
import type { OrderDeps } from "./ports.js";

/** Pickup lines are ready in store, to be collected by the given time. */
export function markReadyForPickup(
  deps: OrderDeps,
  command: { request: RequestRef; orderId: string; lineIds: readonly string[]; collectBy: Date },
): Promise<Order> {
  return changeOrder(deps, {
    scope: "order.MarkReadyForPickup",
    request: command.request,
    orderId: command.orderId,
    decide: (order) => markReady(order, command.lineIds, command.collectBy),
  });
}

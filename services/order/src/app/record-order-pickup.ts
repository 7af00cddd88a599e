import type { Order } from "@retail/contracts/retail/order/v1/order_pb";
import type { RequestRef } from "@retail/platform/store";
import { recordPickup } from "../domain/order-changes.js";
import { changeOrder } from "./change-order.js";
import type { OrderDeps } from "./ports.js";

/** Pickup lines were collected in store. */
export function recordOrderPickup(
  deps: OrderDeps,
  command: { request: RequestRef; orderId: string; lineIds: readonly string[] },
): Promise<Order> {
  return changeOrder(deps, {
    scope: "order.RecordPickup",
    request: command.request,
    orderId: command.orderId,
    decide: (order) => recordPickup(order, command.lineIds),
  });
}

import type { Order, Shipment } from "@retail/contracts/retail/order/v1/order_pb";
import type { RequestRef } from "@retail/platform/store";
import { shipLines } from "../domain/order-changes.js";
import { changeOrder } from "./change-order.js";
import type { OrderDeps } from "./ports.js";

/** A shipment of some lines (or part of their quantities) leaves: recognised, committed by inventory. */
export function recordShipment(
  deps: OrderDeps,
  request: RequestRef,
  orderId: string,
  shipment: Shipment,
): Promise<Order> {
  return changeOrder(deps, {
    scope: "order.RecordShipment",
    request,
    orderId,
    decide: (order) => shipLines(order, shipment, deps.clock.now()),
  });
}

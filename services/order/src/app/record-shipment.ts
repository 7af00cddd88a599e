import type { Order, Shipment } from "@retail/contracts/retail/order/v1/order_pb";
import { shipLines } from "../domain/order-changes.js";
import { changeOrder } from "./change-order.js";
import type { OrderDeps } from "./ports.js";

/** A shipment of some lines (or part of their quantities) leaves: recognised, committed by inventory. */
export function recordShipment(
  deps: OrderDeps,
  requestId: string,
  orderId: string,
  shipment: Shipment,
): Promise<Order> {
  return changeOrder(deps, {
    scope: "order.RecordShipment",
    requestId,
    orderId,
    payload: shipment,
    decide: (order) => shipLines(order, shipment, deps.clock.now()),
  });
}

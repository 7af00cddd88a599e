import type { Order, PaymentEvent } from "@retail/contracts/retail/order/v1/order_pb";
import { recordPayment } from "../domain/order-changes.js";
import { changeOrder } from "./change-order.js";
import type { OrderDeps } from "./ports.js";

/** A payment gateway's event: its own id is the request id, so a webhook delivered twice counts once. */
export function recordPaymentEvent(deps: OrderDeps, orderId: string, event: PaymentEvent): Promise<Order> {
  return changeOrder(deps, {
    scope: "order.RecordPaymentEvent",
    requestId: event.paymentEventId,
    orderId,
    payload: event,
    decide: (order) => recordPayment(order, event),
  });
}

import type { Order, PaymentEvent } from "@retail/contracts/retail/order/v1/order_pb";
import type { RequestRef } from "@retail/platform/store";
import { recordPayment } from "../domain/order-changes.js";
import { changeOrder } from "./change-order.js";
import type { OrderDeps } from "./ports.js";

/**
 * A payment gateway's event: its own id is the request id (`request`), so a webhook delivered twice
 * counts once.
 */
export function recordPaymentEvent(
  deps: OrderDeps,
  request: RequestRef,
  orderId: string,
  event: PaymentEvent,
): Promise<Order> {
  return changeOrder(deps, {
    scope: "order.RecordPaymentEvent",
    request,
    orderId,
    decide: (order) => recordPayment(order, event),
  });
}

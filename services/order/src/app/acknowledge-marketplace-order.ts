import type { Order } from "@retail/contracts/retail/order/v1/order_pb";
import type { RequestRef } from "@retail/platform/store";
import { acknowledge } from "../domain/order-changes.js";
import { changeOrder } from "./change-order.js";
import type { OrderDeps } from "./ports.js";

/** Records that the marketplace was told the order is accepted (once; a repeat changes nothing). */
export function acknowledgeMarketplaceOrder(
  deps: OrderDeps,
  request: RequestRef,
  orderId: string,
): Promise<Order> {
  return changeOrder(deps, {
    scope: "order.AcknowledgeMarketplaceOrder",
    request,
    orderId,
    decide: acknowledge,
  });
}

import type { Order } from "@retail/contracts/retail/order/v1/order_pb";
import type { RequestRef } from "@retail/platform/store";
import { releaseHold } from "../domain/tax-hold.js";
import { changeOrder } from "./change-order.js";
import type { OrderDeps } from "./ports.js";
import { runAcceptance } from "./submit-order.js";

/**
 * A person reviewed the tax of an order held for it: the release is recorded (who, and their note),
 * then the acceptance saga resumes: customer, stock, accepted or rejected.
 */
export async function releaseTaxHold(
  deps: OrderDeps,
  command: { request: RequestRef; orderId: string; note: string },
): Promise<Order> {
  await changeOrder(deps, {
    scope: "order.ReleaseTaxHold",
    request: command.request,
    orderId: command.orderId,
    decide: (order) => releaseHold(order, deps.caller(), command.note),
  });
  return runAcceptance(deps, command.orderId);
}

import { LineStatus } from "@retail/contracts/retail/order/v1/order_pb";
import { internalRequest } from "@retail/platform/store";
import { openQuantity } from "../domain/order.js";
import { cancelOrder } from "./cancel-order.js";
import type { OrderDeps } from "./ports.js";
import { runAcceptance } from "./submit-order.js";

/**
 * Finishes sagas left PENDING (a crash or an unreachable peer) once they are older than the grace
 * period: accepted or rejected, never left holding stock for an order that goes nowhere.
 */
export async function resumePendingOrders(deps: OrderDeps, graceMs: number): Promise<number> {
  const due = await deps.sagas.olderThan(new Date(deps.clock.now().getTime() - graceMs));
  for (const orderId of due) {
    await runAcceptance(deps, orderId).catch((error: unknown) =>
      deps.logger.warn({ err: error, orderId }, "pending order could not be resumed yet"),
    );
  }
  return due.length;
}

/** Cancels pickup lines not collected by their deadline; inventory releases their stock. */
export async function cancelUncollected(deps: OrderDeps): Promise<number> {
  const due = await deps.views.uncollected(deps.clock.now());
  for (const orderId of due) {
    const order = await deps.streams.load(orderId);
    const lines = (order?.lines ?? [])
      .filter((l) => l.status === LineStatus.READY_FOR_PICKUP)
      .map((l) => ({ lineId: l.lineId, quantity: openQuantity(l) }));
    if (lines.length === 0) continue;
    await cancelOrder(deps, {
      request: internalRequest(`not-collected:${orderId}`),
      orderId,
      lines,
      reason: "not collected by the pickup deadline",
      resource: false,
    }).catch((error: unknown) =>
      deps.logger.warn({ err: error, orderId }, "uncollected pickup could not be cancelled"),
    );
  }
  return due.length;
}

import type { Order } from "@retail/contracts/retail/order/v1/order_pb";
import { ConcurrencyConflict, type RequestRef, requestKey, retryOnConflict } from "@retail/platform/store";
import { UnknownOrder } from "../domain/errors.js";
import type { OrderEvent } from "../domain/order.js";
import type { OrderDeps } from "./ports.js";

export interface OrderChange {
  /** The operation, for the request key ("order.RecordShipment"). */
  readonly scope: string;
  readonly request: RequestRef;
  readonly orderId: string;
  /**
   * Facts the decision needs from elsewhere (another service's answers), gathered once, before the
   * decision, never inside it: the decision may run again on a version conflict, a call must not.
   */
  prepare?(order: Order): Promise<unknown>;
  /** The events the change makes of the order as it is (a pure decision); none when it changes nothing. */
  decide(order: Order, prepared: unknown): OrderEvent[];
}

/**
 * One change to an order: gather the facts it needs once, decide on the order's current state, append
 * at the version read, retry the decision from a fresh read when another writer got there first, and
 * refresh the read model. A repeated request id returns the order as it is now, gathering nothing.
 */
export async function changeOrder(deps: OrderDeps, change: OrderChange): Promise<Order> {
  const request = {
    key: requestKey(change.scope, change.request.id),
    fingerprint: change.request.fingerprint,
  };
  if (await deps.streams.applied(request)) {
    const order = await deps.streams.load(change.orderId);
    if (!order) throw new UnknownOrder(change.orderId);
    return order;
  }
  let prepared: unknown;
  if (change.prepare) {
    const order = await deps.streams.load(change.orderId);
    if (!order) throw new UnknownOrder(change.orderId);
    prepared = await change.prepare(order);
  }
  return retryOnConflict(
    async () => {
      const order = await deps.streams.load(change.orderId);
      if (!order) throw new UnknownOrder(change.orderId);
      const events = change.decide(order, prepared);
      if (events.length === 0) return order;
      const after = await deps.streams.append(change.orderId, order, events, { request });
      await deps.views.save(after);
      return after;
    },
    (error) => error instanceof ConcurrencyConflict,
  );
}

import type { Order } from "@retail/contracts/retail/order/v1/order_pb";
import { ConcurrencyConflict, type RequestRef, requestKey, retryOnConflict } from "@retail/platform/store";
import { UnknownOrder } from "../domain/errors.js";
import type { OrderEvent } from "../domain/order.js";
import type { OrderDeps } from "./ports.js";

/** Keeps a change's plan once per request and answers the plan kept (see OrderChange.prepare). */
export type KeepPlan = <Plan>(plan: () => Promise<Plan>) => Promise<Plan>;

export interface OrderChange {
  /** The operation, for the request key ("order.RecordShipment"). */
  readonly scope: string;
  readonly request: RequestRef;
  readonly orderId: string;
  /**
   * Facts the decision needs from elsewhere (another service's answers), gathered once, before the
   * decision, never inside it: the decision may run again on a version conflict, a call must not.
   * What it asks of other services is planned with `keep` first: the plan is kept once per request,
   * so every attempt of the request (a caller's retry after a timeout, a second instance at the same
   * moment) carries out the first attempt's plan with the same keyed calls and gets the same answers,
   * instead of planning afresh on holds the first attempt already moved half-way.
   */
  prepare?(order: Order, keep: KeepPlan): Promise<unknown>;
  /** The events the change makes of the order as it is (a pure decision); none when it changes nothing. */
  decide(order: Order, prepared: unknown): OrderEvent[];
}

/**
 * One change to an order: read it (and whether the request was applied: then it is returned as it is
 * now, gathering nothing), gather the facts the change needs once, decide on the order read, append at
 * its version, retry the decision from a fresh read when another writer got there first, and refresh
 * the read model.
 */
export async function changeOrder(deps: OrderDeps, change: OrderChange): Promise<Order> {
  const request = {
    key: requestKey(change.scope, change.request.id),
    fingerprint: change.request.fingerprint,
  };
  // One read: the order to decide on, and whether this request was applied to it already.
  const { order: read, applied } = await deps.streams.loadFor(change.orderId, request);
  if (!read) throw new UnknownOrder(change.orderId);
  if (applied) return read;
  const keep: KeepPlan = (plan) => deps.plans.once(request.key, plan) as ReturnType<typeof plan>;
  const prepared = change.prepare ? await change.prepare(read, keep) : undefined;
  // The first attempt decides on that read; one that lost to another writer reads afresh.
  let fresh: Order | undefined = read;
  return retryOnConflict(
    async () => {
      const order = fresh ?? (await deps.streams.load(change.orderId));
      fresh = undefined;
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

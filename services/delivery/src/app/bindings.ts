import type { Subscription } from "@retail/contracts/retail/delivery/v1/delivery_pb";
import { routingKeyOf } from "@retail/platform/store";
import { needsFacts } from "../domain/filter.js";
import { records } from "../domain/subscription.js";
import { filterOf } from "./record-event.js";

/** Always bound: an erasure rewrites the stored copies of the customer's events. */
export const erasureBinding = "customer.customer_erased";

/** A pattern as a routing-key pattern (a CloudEvents type becomes its routing key). */
function asRoutingKey(pattern: string): string {
  return pattern.startsWith("retail.") ? routingKeyOf(pattern) : pattern;
}

/**
 * The routing-key patterns delivery's queue must be bound to for the subscriptions that record: each
 * one's patterns, and, for a filter on channel or location, every event of the domains they name (an
 * order's channel comes with its acceptance, which the subscription may not take). Nothing else comes
 * to the queue, so a mesh without subscriptions pays for none of its events.
 */
export function bindingsFor(subscriptions: readonly Subscription[]): string[] {
  const wanted = new Set<string>([erasureBinding]);
  for (const subscription of subscriptions) {
    if (!records(subscription)) continue;
    const filter = filterOf(subscription);
    for (const pattern of filter.eventTypes) {
      const key = asRoutingKey(pattern);
      wanted.add(key);
      if (!needsFacts(filter)) continue;
      const domain = key.split(".")[0] ?? "#";
      wanted.add(domain === "*" || domain === "#" ? "#" : `${domain}.#`);
    }
  }
  return [...wanted].sort();
}

import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import type { Subscription } from "@retail/contracts/retail/delivery/v1/delivery_pb";
import {
  eventFacts,
  type Filter,
  factsComplete,
  factsMatch,
  needsFacts,
  typeMatches,
  withAggregateFacts,
} from "../domain/filter.js";
import { records } from "../domain/subscription.js";
import type { DeliveryDeps, DeliveryRecord, RecordedEvent } from "./ports.js";

/** A domain event as delivery records it: its envelope and encoding, and its JSON form (for filters). */
export interface ObservedEvent extends RecordedEvent {
  readonly json: unknown;
}

const filters = new WeakMap<Subscription, Filter>();

/** A subscription's filter in domain terms (channels by enum name, as the events' JSON spells them). */
export function filterOf(subscription: Subscription): Filter {
  // Worked out once per subscription as the cache holds it (a change is a new object): every event
  // asks it of every subscription.
  let known = filters.get(subscription);
  if (!known) {
    const filter = subscription.filter;
    known = {
      eventTypes: filter?.eventTypes ?? [],
      channels: (filter?.channels ?? []).map((c) => `CHANNEL_${Channel[c]}`),
      channelIds: filter?.channelIds ?? [],
      locationIds: filter?.locationIds ?? [],
    };
    filters.set(subscription, known);
  }
  return known;
}

/**
 * Records an event for every subscription whose filter takes it (deleted subscriptions take none;
 * paused ones record and hold). The facts a filter needs come from the event, completed by what its
 * aggregate's earlier events said; an event that carries facts is remembered for its later ones.
 * Idempotent: a redelivered event finds its deliveries recorded. Returns how many it recorded.
 */
export async function recordEvent(deps: DeliveryDeps, observed: ObservedEvent): Promise<number> {
  // Delivery's own events are not delivered (a "#" subscription would otherwise take them).
  if (observed.routingKey.startsWith("delivery.")) return 0;
  const candidates = deps.cache
    .current()
    .filter((s) => records(s) && typeMatches(filterOf(s), observed.routingKey, observed.type));
  const own = eventFacts(observed.json);
  const factful = own.channels.length + own.channelIds.length + own.locationIds.length > 0;
  const anyNeedsFacts = deps.cache.current().some((s) => records(s) && needsFacts(filterOf(s)));
  // Remembered after this event's own deliveries are recorded: a later event of the aggregate waiting
  // for these facts then finds this one before it in its order.
  const remember = async () => {
    if (factful && anyNeedsFacts) await deps.facts.remember(observed.aggregateId, own);
  };
  if (candidates.length === 0) {
    await remember();
    return 0;
  }
  const needing = candidates.some((s) => needsFacts(filterOf(s)));
  const facts = needing ? withAggregateFacts(own, await deps.facts.recall(observed.aggregateId)) : own;
  // A filter the facts cannot decide yet (the aggregate's earlier events are late, or being handled
  // beside this one) records the event to be decided when they come, in its place in the order.
  const awaiting = (s: Subscription) => needsFacts(filterOf(s)) && !factsComplete(filterOf(s), facts);
  const chosen = candidates.filter(
    (s) => !needsFacts(filterOf(s)) || awaiting(s) || factsMatch(filterOf(s), facts),
  );
  const now = deps.clock.now();
  const { json: _json, ...event } = observed;
  const deliveries: DeliveryRecord[] = chosen.map((s) => ({
    ...event,
    deliveryId: `${s.subscriptionId}:${observed.eventId}`,
    subscriptionId: s.subscriptionId,
    facts: {
      channels: own.channels,
      channelIds: own.channelIds,
      locationIds: own.locationIds,
      declared: own.declared ?? [],
    },
    awaitingFacts: awaiting(s),
    customerIds: own.customerIds,
    state: "pending",
    attempts: 0,
    nextAttemptAt: new Date(now.getTime() + (awaiting(s) ? deps.factsWaitMs : deps.settleMs)),
    deliveredAt: undefined,
    lastStatus: 0,
    lastError: "",
  }));
  if (deliveries.length > 0) await deps.deliveries.record(deliveries);
  await remember();
  return deliveries.length;
}

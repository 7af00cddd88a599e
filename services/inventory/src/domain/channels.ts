import type { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import { FulfillmentPromise, LocationType } from "@retail/contracts/retail/inventory/v1/inventory_pb";

/** A channel's rule as the domain needs it. */
export interface ChannelRuleState {
  readonly channelId: string;
  readonly channel: Channel;
  readonly locationIds: readonly string[];
  readonly bufferUnits: number;
  readonly promises: readonly FulfillmentPromise[];
}

/** The kinds of location that can keep each fulfilment promise. */
const fulfilsPromise: Record<FulfillmentPromise, readonly LocationType[]> = {
  [FulfillmentPromise.UNSPECIFIED]: [],
  [FulfillmentPromise.SHIP_FROM_DC]: [LocationType.DISTRIBUTION_CENTER, LocationType.WAREHOUSE],
  [FulfillmentPromise.SHIP_FROM_STORE]: [LocationType.STORE],
  [FulfillmentPromise.PICKUP_IN_STORE]: [LocationType.STORE],
};

/**
 * The channel's locations that can keep a promise (all of them when no promise is asked), or
 * undefined when the channel does not make that promise at all.
 */
export function locationsForPromise(
  rule: ChannelRuleState,
  promise: FulfillmentPromise,
  typeOf: (locationId: string) => LocationType | undefined,
): string[] | undefined {
  if (promise === FulfillmentPromise.UNSPECIFIED) return [...rule.locationIds];
  if (!rule.promises.includes(promise)) return undefined;
  const kinds = fulfilsPromise[promise];
  return rule.locationIds.filter((id) => kinds.includes(typeOf(id) ?? LocationType.UNSPECIFIED));
}

/** What a channel may sell of one location's availability: the figure less its buffer, never below zero. */
export function channelAvailable(rule: ChannelRuleState, available: number): number {
  return Math.max(0, available - rule.bufferUnits);
}

/** The rules of the channels a location feeds. */
export function channelsFedBy(rules: readonly ChannelRuleState[], locationId: string): ChannelRuleState[] {
  return rules.filter((rule) => rule.locationIds.includes(locationId));
}

/**
 * Where to reserve lines that name no location: one location that can fulfil every line first, else
 * for each line the location with the most available. `availableAt` reads the (possibly slightly stale)
 * read model; the hold itself re-checks against the ledger.
 */
export function chooseLocations(
  lines: ReadonlyArray<{ readonly sku: string; readonly quantity: number }>,
  candidates: readonly string[],
  availableAt: (sku: string, locationId: string) => number,
): Array<{ sku: string; quantity: number; locationIds: string[] }> {
  const single = candidates.find((loc) => lines.every((line) => availableAt(line.sku, loc) >= line.quantity));
  return lines.map((line) => {
    const ranked = [...candidates].sort((a, b) => availableAt(line.sku, b) - availableAt(line.sku, a));
    const ordered = single ? [single, ...ranked.filter((loc) => loc !== single)] : ranked;
    return { sku: line.sku, quantity: line.quantity, locationIds: ordered };
  });
}

// Which events a subscription receives. An event is matched on its routing key or CloudEvents type and
// on the facts it carries (its channel, channel ids and locations), or, for an event that does not
// carry them (a line cancelled), on the facts its aggregate carried before (the order's channel).

/** What an event is about, as far as filters care; read from the event's JSON form (eventFacts). */
export interface EventFacts {
  readonly channels: readonly string[];
  readonly channelIds: readonly string[];
  readonly locationIds: readonly string[];
}

/** A subscription's filter in domain terms: channels by enum name ("CHANNEL_WEB"). */
export interface Filter {
  readonly eventTypes: readonly string[];
  readonly channels: readonly string[];
  readonly channelIds: readonly string[];
  readonly locationIds: readonly string[];
}

const word = /^[a-z0-9_]+$/;
const cloudEventsType = /^retail\.[a-z]+\.v[0-9]+\.[A-Z][A-Za-z0-9]*$/;

/** Why an event-type pattern is not one, or undefined when it is. */
export function patternProblem(pattern: string): string | undefined {
  if (cloudEventsType.test(pattern)) return undefined;
  const words = pattern.split(".");
  if (words.every((w) => w === "*" || w === "#" || word.test(w))) return undefined;
  return 'must be a routing-key pattern ("order.*", "inventory.#") or a CloudEvents type ("retail.order.v1.OrderAccepted")';
}

/** RabbitMQ's topic matching: "*" is one word, "#" zero or more. */
export function topicMatches(pattern: string, routingKey: string): boolean {
  return matchWords(pattern.split("."), 0, routingKey.split("."), 0);
}

function matchWords(pattern: string[], p: number, key: string[], k: number): boolean {
  if (p === pattern.length) return k === key.length;
  const head = pattern[p];
  if (head === "#") {
    for (let skip = k; skip <= key.length; skip++) if (matchWords(pattern, p + 1, key, skip)) return true;
    return false;
  }
  if (k === key.length) return false;
  return (head === "*" || head === key[k]) && matchWords(pattern, p + 1, key, k + 1);
}

/** Whether the filter's event types take an event of this routing key and CloudEvents type. */
export function typeMatches(filter: Filter, routingKey: string, type: string): boolean {
  return filter.eventTypes.some((pattern) => pattern === type || topicMatches(pattern, routingKey));
}

/** Whether the filter needs facts at all (a filter on event types alone does not). */
export function needsFacts(filter: Filter): boolean {
  return filter.channels.length > 0 || filter.channelIds.length > 0 || filter.locationIds.length > 0;
}

/** Whether the facts satisfy every part of the filter that is set. */
export function factsMatch(filter: Filter, facts: EventFacts): boolean {
  const overlaps = (wanted: readonly string[], have: readonly string[]) =>
    wanted.length === 0 || have.some((value) => wanted.includes(value));
  return (
    overlaps(filter.channels, facts.channels) &&
    overlaps(filter.channelIds, facts.channelIds) &&
    overlaps(filter.locationIds, facts.locationIds)
  );
}

/** The facts of an event's JSON form: every `channel`, `channelId` and `…locationId` in it, at any depth. */
export function eventFacts(json: unknown): EventFacts & { readonly customerIds: readonly string[] } {
  const channels = new Set<string>();
  const channelIds = new Set<string>();
  const locationIds = new Set<string>();
  const customerIds = new Set<string>();
  const visit = (value: unknown, depth: number): void => {
    if (depth > 6 || value === null || typeof value !== "object") return;
    if (Array.isArray(value)) {
      for (const item of value) visit(item, depth + 1);
      return;
    }
    for (const [key, inner] of Object.entries(value)) {
      if (typeof inner === "string" && inner !== "") {
        if (key === "channel") channels.add(inner);
        else if (key === "channelId") channelIds.add(inner);
        else if (key === "locationId" || key.endsWith("LocationId")) locationIds.add(inner);
        else if (key === "customerId") customerIds.add(inner);
      } else visit(inner, depth + 1);
    }
  };
  visit(json, 0);
  return {
    channels: [...channels],
    channelIds: [...channelIds],
    locationIds: [...locationIds],
    customerIds: [...customerIds],
  };
}

/**
 * Whether the facts say enough to decide the filter: every part it sets has facts to compare (an
 * order line cancelled before its order's acceptance was seen has no channel yet).
 */
export function factsComplete(filter: Filter, facts: EventFacts): boolean {
  return (
    (filter.channels.length === 0 || facts.channels.length > 0) &&
    (filter.channelIds.length === 0 || facts.channelIds.length > 0) &&
    (filter.locationIds.length === 0 || facts.locationIds.length > 0)
  );
}

/** The facts of an event, completed with what its aggregate told before (an order's channel). */
export function withAggregateFacts(own: EventFacts, before: EventFacts | undefined): EventFacts {
  if (!before) return own;
  const union = (a: readonly string[], b: readonly string[]) => [...new Set([...a, ...b])];
  return {
    channels: own.channels.length > 0 ? own.channels : before.channels,
    channelIds: own.channelIds.length > 0 ? own.channelIds : before.channelIds,
    locationIds: union(own.locationIds, before.locationIds),
  };
}

// Which events a subscription receives. An event is matched on its routing key or CloudEvents type and
// on the facts it carries (its channel, channel ids and locations), or, for an event that does not
// carry them (a line cancelled), on the facts its aggregate carried before (the order's channel). An
// event whose kind has the field speaks for itself even when it is empty: a stock change's raw figure
// (no channel id) is no channel's, whatever channel's figure the same position published before.

/** What an event is about, as far as filters care; read from the event's JSON form (eventFacts). */
export interface EventFacts {
  readonly channels: readonly string[];
  readonly channelIds: readonly string[];
  readonly locationIds: readonly string[];
  /** The kinds of fact the event has a field for, set or empty (read with the fields' defaults). */
  readonly declared?: readonly FactKind[];
}

export type FactKind = "channels" | "channelIds" | "locationIds";

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

/**
 * The facts of an event's JSON form: every `channel`, `channelId` and `…locationId` in it, at any depth.
 * Read from JSON with the fields' defaults written out, a field present but empty ("", or
 * CHANNEL_UNSPECIFIED) declares its kind without a value.
 */
export function eventFacts(json: unknown): EventFacts & { readonly customerIds: readonly string[] } {
  const channels = new Set<string>();
  const channelIds = new Set<string>();
  const locationIds = new Set<string>();
  const customerIds = new Set<string>();
  const declared = new Set<FactKind>();
  const kindOf = (key: string): FactKind | undefined =>
    key === "channel"
      ? "channels"
      : key === "channelId"
        ? "channelIds"
        : key === "locationId" || key.endsWith("LocationId")
          ? "locationIds"
          : undefined;
  const into = { channels, channelIds, locationIds };
  const visit = (value: unknown, depth: number): void => {
    if (depth > 6 || value === null || typeof value !== "object") return;
    if (Array.isArray(value)) {
      for (const item of value) visit(item, depth + 1);
      return;
    }
    for (const [key, inner] of Object.entries(value)) {
      if (typeof inner !== "string") {
        visit(inner, depth + 1);
        continue;
      }
      const kind = kindOf(key);
      if (kind) {
        declared.add(kind);
        if (inner !== "" && inner !== "CHANNEL_UNSPECIFIED") into[kind].add(inner);
      } else if (key === "customerId" && inner !== "") customerIds.add(inner);
    }
  };
  visit(json, 0);
  return {
    channels: [...channels],
    channelIds: [...channelIds],
    locationIds: [...locationIds],
    declared: [...declared],
    customerIds: [...customerIds],
  };
}

/**
 * Whether the facts say enough to decide the filter: every part it sets has facts to compare (an
 * order line cancelled before its order's acceptance was seen has no channel yet).
 */
export function factsComplete(filter: Filter, facts: EventFacts): boolean {
  const known = (kind: FactKind) => facts[kind].length > 0 || (facts.declared ?? []).includes(kind);
  return (
    (filter.channels.length === 0 || known("channels")) &&
    (filter.channelIds.length === 0 || known("channelIds")) &&
    (filter.locationIds.length === 0 || known("locationIds"))
  );
}

/** The facts of an event, completed with what its aggregate told before (an order's channel). */
export function withAggregateFacts(own: EventFacts, before: EventFacts | undefined): EventFacts {
  if (!before) return own;
  const union = (a: readonly string[], b: readonly string[]) => [...new Set([...a, ...b])];
  // What the event has a field for is its own to say, even empty.
  const speaks = (kind: FactKind) => own[kind].length > 0 || (own.declared ?? []).includes(kind);
  return {
    channels: speaks("channels") ? own.channels : before.channels,
    channelIds: speaks("channelIds") ? own.channelIds : before.channelIds,
    locationIds: union(own.locationIds, before.locationIds),
    declared: own.declared ?? [],
  };
}

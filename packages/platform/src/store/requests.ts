import { createHash } from "node:crypto";
import { type DescMessage, type MessageShape, toBinary } from "@bufbuild/protobuf";

/**
 * A request as a use case sees it: the id its caller gave it (a retry carries the same one) and the
 * fingerprint of what it asked. The request id makes a command idempotent; the fingerprint tells a
 * retry from a reused id, which is refused (IdempotencyKeyReused).
 */
export interface RequestRef {
  readonly id: string;
  readonly fingerprint: string;
}

/** "<scope>:<request id>": scope names the operation ("inventory.RecordMovement") so ids never collide. */
export function requestKey(scope: string, requestId: string): string {
  return `${scope}:${requestId}`;
}

/**
 * The one fingerprint of a request in the mesh: a SHA-256 of its message type's name and its canonical
 * protobuf encoding (unknown fields left out, map entries in key order). The same request fingerprints
 * the same whether it came as binary, as JSON with its fields in another order, or through the gateway;
 * two message types never share a fingerprint.
 */
export function fingerprint<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): string {
  const bytes = toBinary(schema, canonical(schema, message), { writeUnknownFields: false });
  return createHash("sha256").update(schema.typeName).update("\n").update(bytes).digest("hex");
}

/** The request a message is: its `request_id` field and its fingerprint (computed where it arrives). */
export function requestOf<Desc extends DescMessage>(
  schema: Desc,
  message: MessageShape<Desc> & { readonly requestId: string },
): RequestRef {
  return { id: message.requestId, fingerprint: fingerprint(schema, message) };
}

/**
 * The request an event makes of its consumer: the event id is the request id (a redelivery is a retry),
 * the event's encoding its fingerprint.
 */
export function eventRequest<Desc extends DescMessage>(
  schema: Desc,
  message: MessageShape<Desc>,
  eventId: string,
): RequestRef {
  return { id: eventId, fingerprint: fingerprint(schema, message) };
}

/**
 * A request the mesh makes of itself (a sweep's "not-collected:<order id>", a seed's
 * "seed:<jurisdiction>:<tax code>"): what it asks is its id, plus `asked` where the id does not say
 * everything (the seeded rate).
 */
export function internalRequest(id: string, asked = ""): RequestRef {
  return { id, fingerprint: createHash("sha256").update(`internal\n${id}\n${asked}`).digest("hex") };
}

/** The message with every map's entries in key order, nested messages included (toBinary keeps insertion order). */
function canonical<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): MessageShape<Desc> {
  if (!reachesMap(schema) || typeof message !== "object" || message === null) return message;
  const copy: Record<string, unknown> = { ...(message as Record<string, unknown>) };
  for (const field of schema.fields) {
    if (field.oneof) {
      const chosen = copy[field.oneof.localName] as { case?: string; value?: unknown } | undefined;
      if (chosen?.case === field.localName && field.message)
        copy[field.oneof.localName] = { ...chosen, value: canonical(field.message, chosen.value as never) };
      continue;
    }
    const value = copy[field.localName];
    if (value === undefined || value === null) continue;
    if (field.fieldKind === "map") {
      const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
        a < b ? -1 : a > b ? 1 : 0,
      );
      const inner = field.mapKind === "message" ? field.message : undefined;
      copy[field.localName] = Object.fromEntries(
        entries.map(([key, entry]) => [key, inner ? canonical(inner, entry as never) : entry]),
      );
    } else if (field.fieldKind === "list" && field.listKind === "message") {
      copy[field.localName] = (value as unknown[]).map((item) => canonical(field.message, item as never));
    } else if (field.fieldKind === "message" && typeof value === "object") {
      copy[field.localName] = canonical(field.message, value as never);
    }
  }
  return copy as MessageShape<Desc>;
}

const mapReach = new WeakMap<DescMessage, boolean>();

/** Whether a message type has a map field, itself or in a message it holds (memoized per type). */
function reachesMap(schema: DescMessage): boolean {
  let known = mapReach.get(schema);
  if (known === undefined) {
    known = mapsWithin(schema, new Set());
    mapReach.set(schema, known);
  }
  return known;
}

function mapsWithin(schema: DescMessage, seen: Set<DescMessage>): boolean {
  if (seen.has(schema)) return false;
  seen.add(schema);
  return schema.fields.some(
    (f) => f.fieldKind === "map" || (f.message !== undefined && mapsWithin(f.message, seen)),
  );
}

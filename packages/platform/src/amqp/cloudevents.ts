import type { ConsumeMessage, Options } from "amqplib";
import type { StoredEvent } from "../store/events.js";

/** Content type of every event body: the binary protobuf encoding of the event message. */
export const protobufContentType = "application/protobuf";

/**
 * CloudEvents 1.0 binary mode over AMQP: the body is the event data, the attributes travel as
 * `ce-` headers (ce-id, ce-type, ce-source, ce-subject, ce-time, ce-specversion), with the
 * correlation id as the `correlationid` extension and the W3C `traceparent` (the publish's span when
 * one is given, else the context that recorded the event).
 */
export function publishOptionsFor(
  event: StoredEvent,
  source: string,
  traceparent = event.traceparent,
): Options.Publish {
  const headers: Record<string, string> = {
    "ce-specversion": "1.0",
    "ce-id": event.eventId,
    "ce-type": event.type,
    "ce-source": source,
    "ce-subject": event.streamId,
    "ce-time": event.occurredAt.toISOString(),
    "ce-correlationid": event.correlationId,
    "ce-sequence": String(event.version),
  };
  if (traceparent) headers.traceparent = traceparent;
  return {
    persistent: true,
    contentType: protobufContentType,
    messageId: event.eventId,
    correlationId: event.correlationId,
    type: event.type,
    timestamp: Math.floor(event.occurredAt.getTime() / 1000),
    headers,
  };
}

/** An event as a consumer receives it. */
export interface ReceivedEvent {
  readonly id: string;
  readonly type: string;
  readonly source: string;
  readonly subject: string;
  readonly time: Date;
  readonly sequence: number;
  readonly correlationId: string;
  readonly traceparent: string | undefined;
  readonly routingKey: string;
  readonly data: Uint8Array;
  /** 0 on first delivery, then 1, 2, … as the message comes back from the retry queues. */
  readonly attempt: number;
}

/** A message that cannot be read as a CloudEvent: it goes straight to the parking queue. */
export class UndecodableMessage extends Error {
  readonly kind = "undecodable-message";
}

/** What reading an event needs of a message (consumed, or taken with basic.get). */
type EventMessage = Pick<ConsumeMessage, "properties" | "content"> & { fields: { routingKey: string } };

function header(message: EventMessage, name: string): string | undefined {
  const value = message.properties.headers?.[name] as unknown;
  if (value === undefined || value === null) return undefined;
  return Buffer.isBuffer(value) ? value.toString("utf8") : String(value);
}

export const attemptHeader = "x-retry-attempt";
/** Kept on retried messages, whose routing key becomes the queue's name on the way back. */
export const originalRoutingKeyHeader = "x-original-routing-key";

export function receivedEventFrom(message: EventMessage): ReceivedEvent {
  const id = header(message, "ce-id");
  const type = header(message, "ce-type");
  if (!id || !type) throw new UndecodableMessage("message lacks the ce-id or ce-type header");
  const time = new Date(header(message, "ce-time") ?? Number.NaN);
  return {
    id,
    type,
    source: header(message, "ce-source") ?? "",
    subject: header(message, "ce-subject") ?? "",
    time: Number.isNaN(time.getTime()) ? new Date() : time,
    sequence: Number(header(message, "ce-sequence") ?? 0),
    correlationId: header(message, "ce-correlationid") ?? "",
    traceparent: header(message, "traceparent"),
    routingKey: header(message, originalRoutingKeyHeader) ?? message.fields.routingKey,
    data: new Uint8Array(message.content),
    attempt: Number(header(message, attemptHeader) ?? 0),
  };
}

/**
 * A consumer's handler in two steps: `decode` reads the event as what the service acts on (undefined:
 * an event it does not act on), `apply` acts. A body that cannot be decoded is parked at once as
 * UndecodableMessage (retrying cannot fix it); a failure to apply is retried.
 */
export function decodeThen<T>(
  decode: (event: ReceivedEvent) => T | undefined,
  apply: (decoded: T, event: ReceivedEvent) => Promise<unknown>,
): (event: ReceivedEvent) => Promise<void> {
  return async (event) => {
    let decoded: T | undefined;
    try {
      decoded = decode(event);
    } catch (error) {
      throw new UndecodableMessage(`${event.type} body is not a valid message: ${String(error)}`);
    }
    if (decoded !== undefined) await apply(decoded, event);
  };
}

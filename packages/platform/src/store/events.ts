import { create, type DescMessage, type MessageShape, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { EventMetadataSchema } from "@retail/contracts/retail/common/v1/common_pb";

/** A domain event to append: its protobuf schema and value. The store stamps its metadata. */
export interface NewEvent<Desc extends DescMessage = DescMessage> {
  readonly schema: Desc;
  readonly data: MessageShape<Desc>;
}

/** Builds a NewEvent with the schema's type checked against the value. */
export function event<Desc extends DescMessage>(schema: Desc, data: MessageShape<Desc>): NewEvent {
  return { schema, data } as NewEvent;
}

/** An event as stored and as relayed: the protobuf body plus what the CloudEvents headers need. */
export interface StoredEvent {
  readonly eventId: string;
  readonly streamId: string;
  readonly version: number;
  /** Fully-qualified protobuf type: "retail.inventory.v1.StockReserved" (also the CloudEvents type). */
  readonly type: string;
  /** "<domain>.<event>": "inventory.stock_reserved". */
  readonly routingKey: string;
  readonly data: Uint8Array;
  readonly occurredAt: Date;
  readonly correlationId: string;
  readonly causationId: string;
  readonly traceparent: string;
}

/** "retail.inventory.v1.StockReserved" -> "inventory.stock_reserved". */
export function routingKeyOf(typeName: string): string {
  const parts = typeName.split(".");
  const domain = parts.length >= 4 ? parts[1] : parts[0];
  const name = parts.at(-1) ?? typeName;
  return `${domain}.${name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase()}`;
}

export interface EventStamp {
  eventId: string;
  streamId: string;
  version: number;
  occurredAt: Date;
  correlationId: string;
  causationId: string;
}

/**
 * Encodes an event, first filling its `metadata` field (retail.common.v1.EventMetadata) with the
 * stream, version, time and correlation the store assigned, so consumers can check order per aggregate.
 */
export function encodeEvent(newEvent: NewEvent, stamp: EventStamp): Uint8Array {
  const field = newEvent.schema.fields.find((f) => f.name === "metadata");
  const data = newEvent.data as MessageShape<DescMessage> & { metadata?: unknown };
  if (field?.message?.typeName === EventMetadataSchema.typeName) {
    data.metadata = create(EventMetadataSchema, {
      eventId: stamp.eventId,
      aggregateId: stamp.streamId,
      aggregateVersion: BigInt(stamp.version),
      occurredAt: timestampFromDate(stamp.occurredAt),
      correlationId: stamp.correlationId,
      causationId: stamp.causationId,
    });
  }
  return toBinary(newEvent.schema, data);
}

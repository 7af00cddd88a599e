import { create, fromBinary } from "@bufbuild/protobuf";
import { type Timestamp, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { CustomerErasedSchema } from "@retail/contracts/retail/customer/v1/customer_events_pb";
import { TraceEventSchema } from "@retail/contracts/retail/operations/v1/operations_pb";
import { exceptionChanges } from "../domain/exceptions.js";
import type { OperationsDeps } from "./ports.js";

/** A domain event as operations receives it: its envelope, its encoding and its JSON form. */
export interface ReceivedEvent {
  readonly eventId: string;
  readonly type: string;
  readonly routingKey: string;
  readonly source: string;
  readonly aggregateId: string;
  readonly sequence: number;
  readonly correlationId: string;
  readonly time: Date;
  readonly data: Uint8Array;
  /** The JSON form with personal fields emptied (what the trace shows). */
  readonly redactedJson: unknown;
  /** The orders and customers the event names (read from its body before redaction). */
  readonly orderIds: readonly string[];
  readonly customerIds: readonly string[];
}

const at = (date: Date): Timestamp => timestampFromDate(date);

/**
 * Keeps an event for tracing and applies what it says to the exception lists. Idempotent: a redelivered
 * event keeps nothing new and opens or ends nothing twice.
 */
export async function recordEvent(deps: OperationsDeps, event: ReceivedEvent): Promise<void> {
  deps.onEvent?.(event.time);
  if (event.type === CustomerErasedSchema.typeName) {
    const { customerId } = fromBinary(CustomerErasedSchema, event.data);
    const emptied = await deps.timeline.eraseCustomer(customerId);
    deps.logger.info({ customerId, emptied }, "emptied an erased customer's events in the traces");
  }
  await deps.timeline.keep(
    create(TraceEventSchema, {
      eventId: event.eventId,
      type: event.type,
      routingKey: event.routingKey,
      source: event.source,
      aggregateId: event.aggregateId,
      sequence: BigInt(event.sequence),
      correlationId: event.correlationId,
      occurTime: at(event.time),
      receiveTime: at(deps.clock.now()),
      orderIds: [...event.orderIds],
      customerIds: [...event.customerIds],
      dataJson: JSON.stringify(event.redactedJson ?? null),
    }),
  );
  for (const change of exceptionChanges(event, { lateStockMs: deps.lateStockMs }))
    await deps.exceptions.apply(change);
  // The order changed: what the channels show of it is compared again at the next sweep.
  if (event.routingKey.startsWith("order.")) for (const id of event.orderIds) deps.changedOrders.add(id);
}

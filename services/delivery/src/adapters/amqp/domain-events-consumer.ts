import { fromBinary } from "@bufbuild/protobuf";
import { CustomerErasedSchema } from "@retail/contracts/retail/customer/v1/customer_events_pb";
import { type AmqpConnectionManager, type Consumer, decodeThen, startConsumer } from "@retail/platform/amqp";
import { eventJson, redactEvent } from "@retail/platform/domain-events";
import type { Metrics } from "@retail/platform/metrics";
import { childTrace, currentCallContext, formatTraceparent } from "@retail/platform/rpc";
import { createKeyedLock } from "@retail/platform/store";
import type { DeliveryDeps } from "../../app/ports.js";
import { recordEvent } from "../../app/record-event.js";
import type { Erasures } from "../mongo/erasures.js";

/**
 * `delivery.domain-events`, bound to what the subscriptions take (app/bindings.ts; the bindings follow
 * them as they change): each event is recorded for the subscriptions that take it, then the dispatcher
 * is woken. No inbox: recording is idempotent by itself (one delivery per subscription and event). An
 * erasure also rewrites the stored copies of the customer's events (their personal fields emptied),
 * delivered or not.
 */
export function startDomainEventsConsumer(
  options: {
    connection: AmqpConnectionManager;
    exchange: string;
    /** The queue's name, prefixed as the environment says. */
    queue: string;
    bindings: readonly string[];
    metrics: Metrics;
    erasures: Erasures;
  },
  deps: DeliveryDeps,
  wake: () => void,
): Promise<Consumer> {
  // One aggregate's events are recorded one after the other, in the order they came (the queue's order
  // is the publish order); other aggregates' at the same time.
  const inOrder = createKeyedLock();
  return startConsumer({
    connection: options.connection,
    exchange: options.exchange,
    queue: options.queue,
    bindings: options.bindings,
    logger: deps.logger,
    metrics: options.metrics,
    handle: decodeThen(
      // Read with the fields' defaults: an empty channel id says "no channel's", not "ask the aggregate".
      // The handling's own trace, read here: the ordered run below may begin in another event's turn.
      (event) => ({
        event,
        json: eventJson(event.type, event.data, { withDefaults: true }) ?? null,
        traceparent: formatTraceparent(currentCallContext()?.trace ?? childTrace(undefined)),
      }),
      ({ event, json, traceparent }) =>
        inOrder(event.subject, async () => {
          if (event.type === CustomerErasedSchema.typeName) {
            const { customerId } = fromBinary(CustomerErasedSchema, event.data);
            await options.erasures.record(customerId, event.time);
            const erased = await deps.deliveries.eraseCustomer(customerId, redactEvent);
            deps.logger.info({ customerId, erased }, "erased a customer from stored deliveries");
          }
          const recorded = await recordEvent(deps, {
            eventId: event.id,
            type: event.type,
            routingKey: event.routingKey,
            source: event.source,
            aggregateId: event.subject,
            sequence: event.sequence,
            eventTime: event.time,
            correlationId: event.correlationId,
            traceparent,
            data: event.data,
            json,
          });
          if (recorded > 0) wake();
        }),
    ),
  });
}

import { type AmqpConnectionManager, type Consumer, decodeThen, startConsumer } from "@retail/platform/amqp";
import { eventJsonForms } from "@retail/platform/domain-events";
import type { Metrics } from "@retail/platform/metrics";
import type { OperationsDeps } from "../../app/ports.js";
import { recordEvent } from "../../app/record-event.js";

/** Every `orderId` and `customerId` in an event's JSON form, at any depth, and the order its stream is. */
export function namedIn(json: unknown, aggregateId: string): { orderIds: string[]; customerIds: string[] } {
  const orderIds = new Set<string>();
  const customerIds = new Set<string>();
  if (aggregateId.startsWith("order:")) orderIds.add(aggregateId.slice("order:".length));
  const visit = (value: unknown, depth: number): void => {
    if (depth > 8 || value === null || typeof value !== "object") return;
    for (const [key, inner] of Object.entries(value)) {
      if (typeof inner === "string" && inner !== "") {
        if (key === "orderId") orderIds.add(inner);
        else if (key === "customerId") customerIds.add(inner);
      } else visit(inner, depth + 1);
    }
  };
  visit(json, 0);
  return { orderIds: [...orderIds], customerIds: [...customerIds] };
}

/**
 * `operations.domain-events`, bound to every routing key: each event kept for tracing and applied to
 * the exception lists. No inbox: both are idempotent by the event's id.
 */
export function startEventsConsumer(
  options: { connection: AmqpConnectionManager; exchange: string; queue: string; metrics: Metrics },
  deps: OperationsDeps,
): Promise<Consumer> {
  return startConsumer({
    connection: options.connection,
    exchange: options.exchange,
    queue: options.queue,
    bindings: ["#"],
    logger: deps.logger,
    metrics: options.metrics,
    handle: decodeThen(
      // A body that is not its type's message is poison: it parks instead of being retried.
      (event) => {
        // Decoded once: the names are read before the personal fields are emptied.
        const forms = eventJsonForms(event.type, event.data);
        return { named: namedIn(forms?.json ?? null, event.subject), redactedJson: forms?.redacted ?? null };
      },
      ({ named, redactedJson }, event) =>
        recordEvent(deps, {
          eventId: event.id,
          type: event.type,
          routingKey: event.routingKey,
          source: event.source,
          aggregateId: event.subject,
          sequence: event.sequence,
          correlationId: event.correlationId,
          time: event.time,
          data: event.data,
          redactedJson,
          ...named,
        }),
    ),
  });
}

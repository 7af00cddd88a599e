import type { AmqpConnectionManager } from "amqp-connection-manager";
import type { ConfirmChannel } from "amqplib";
import { formatTraceparent, parseTraceparent } from "../rpc/context.js";
import type { StoredEvent } from "../store/events.js";
import type { EventPublisher } from "../store/outbox-relay.js";
import { SpanKind, startSpan, tracing } from "../telemetry/index.js";
import { publishOptionsFor } from "./cloudevents.js";
import { declareEventsExchange, eventsExchange } from "./topology.js";

export interface AmqpEventPublisher extends EventPublisher {
  close(): Promise<void>;
}

/**
 * Publishes stored events to the events exchange on a confirm channel: publish() resolves only once
 * the broker has confirmed every event, and rejects after timeoutMs while the broker is away, so the
 * outbox keeps the events unpublished and tries again.
 */
export function createEventPublisher(
  connection: AmqpConnectionManager,
  options: { source: string; exchange?: string; timeoutMs?: number },
): AmqpEventPublisher {
  const exchange = options.exchange ?? eventsExchange;
  const channel = connection.createChannel({
    name: `${options.source}-publisher`,
    confirm: true,
    publishTimeout: options.timeoutMs ?? 5_000,
    setup: (ch: ConfirmChannel) => declareEventsExchange(ch, exchange),
  });
  return {
    async publish(events: readonly StoredEvent[]) {
      await Promise.all(
        events.map(async (event) => {
          // With telemetry, the publish is a producer span under the work that recorded the event (the
          // consumers its children); without, the event goes out with the context that recorded it.
          const span = tracing()
            ? startSpan(
                `publish ${event.routingKey}`,
                SpanKind.PRODUCER,
                parseTraceparent(event.traceparent),
                {
                  "messaging.system": "rabbitmq",
                  "messaging.operation.type": "send",
                  "messaging.destination.name": exchange,
                  "messaging.rabbitmq.destination.routing_key": event.routingKey,
                  "messaging.message.id": event.eventId,
                },
              )
            : undefined;
          const traceparent = span ? formatTraceparent(span.trace) : event.traceparent;
          try {
            await channel.publish(
              exchange,
              event.routingKey,
              Buffer.from(event.data),
              publishOptionsFor(event, options.source, traceparent),
            );
            span?.end();
          } catch (error) {
            span?.end(error);
            throw error;
          }
        }),
      );
    },
    close: () => channel.close(),
  };
}

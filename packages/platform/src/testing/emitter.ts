import { randomUUID } from "node:crypto";
import { type DescMessage, type MessageShape, toBinary } from "@bufbuild/protobuf";
import { connectAmqp, createEventPublisher } from "../amqp/index.js";
import { createLogger } from "../log/index.js";
import { routingKeyOf } from "../store/index.js";

/**
 * Publishes domain events onto a test's exchange as an outbox relay does (protobuf bodies, CloudEvents
 * headers), numbering each aggregate's versions: for a consumer's tests without the service that
 * publishes them.
 */
export function createEmitter(amqpUrl: string, exchange: string, source = "order") {
  const amqp = connectAmqp(amqpUrl, {
    name: `emitter-${exchange}`,
    logger: createLogger({ service: "test", level: "silent" }),
  });
  const publisher = createEventPublisher(amqp, { source, exchange });
  const versions = new Map<string, number>();
  return {
    /**
     * Publishes the aggregate's next version, or the version given (to send events out of order);
     * `options.correlationId` and `options.at` set the envelope; `options.body` replaces the encoded
     * message (a poison message). Returns the event's id.
     */
    async emit<Desc extends DescMessage>(
      aggregateId: string,
      schema: Desc,
      message: MessageShape<Desc>,
      at?: number,
      options: { correlationId?: string; occurredAt?: Date; eventId?: string; body?: Uint8Array } = {},
    ): Promise<string> {
      const eventId = options.eventId ?? randomUUID();
      const version = at ?? (versions.get(aggregateId) ?? 0) + 1;
      versions.set(aggregateId, Math.max(version, versions.get(aggregateId) ?? 0));
      await publisher.publish([
        {
          eventId,
          streamId: aggregateId,
          version,
          type: schema.typeName,
          routingKey: routingKeyOf(schema.typeName),
          data: options.body ?? toBinary(schema, message),
          occurredAt: options.occurredAt ?? new Date(),
          correlationId: options.correlationId ?? randomUUID(),
          causationId: "",
          traceparent: "",
        },
      ]);
      return eventId;
    },
    async close() {
      await publisher.close();
      await amqp.close();
    },
  };
}

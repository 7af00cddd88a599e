import type { AmqpConnectionManager } from "amqp-connection-manager";
import type { ConfirmChannel, ConsumeMessage } from "amqplib";
import type { Logger } from "../log/index.js";
import type { Metrics } from "../metrics/index.js";
import { callContextFrom, parseTraceparent, runWithCallContext } from "../rpc/context.js";
import type { Inbox } from "../store/inbox.js";
import { SpanKind, startSpan } from "../telemetry/index.js";
import {
  attemptHeader,
  originalRoutingKeyHeader,
  type ReceivedEvent,
  receivedEventFrom,
  UndecodableMessage,
} from "./cloudevents.js";
import { consumerQueues, declareConsumerQueues, defaultRetryDelaysMs, eventsExchange } from "./topology.js";

export interface ConsumerOptions {
  connection: AmqpConnectionManager;
  /** `<consumer>.<source>-events`, e.g. "order.inventory-events". */
  queue: string;
  /** Routing-key patterns on the events exchange, e.g. ["inventory.#"]. */
  bindings: readonly string[];
  /**
   * Handles one event. Throwing retries it after the next delay, then parks it; throwing
   * UndecodableMessage parks it at once. It must be idempotent by event id (pass the event id as the
   * request id of the use case), since a crash after it ran but before the ack redelivers the event.
   */
  handle: (event: ReceivedEvent) => Promise<void>;
  /** Skips event ids already handled and records new ones after handling. */
  inbox?: Inbox;
  logger: Logger;
  metrics?: Metrics;
  prefetch?: number;
  retryDelaysMs?: readonly number[];
  exchange?: string;
}

/**
 * What a service's composition root hands each of its consumers: the broker, the events exchange, the
 * prefix of its queue names (per environment or test), the consumer's inbox, its logger and metrics.
 */
export interface ServiceConsumerWiring {
  connection: AmqpConnectionManager;
  exchange: string;
  queuePrefix: string;
  inbox: Inbox;
  logger: Logger;
  metrics: Metrics;
}

/** A service's consumer of `queue` (prefixed here) under its wiring. */
export function startServiceConsumer(
  wiring: ServiceConsumerWiring,
  consumer: Pick<ConsumerOptions, "queue" | "bindings" | "handle">,
): Promise<Consumer> {
  const { connection, exchange, queuePrefix, inbox, logger, metrics } = wiring;
  return startConsumer({
    ...consumer,
    queue: `${queuePrefix}${consumer.queue}`,
    connection,
    exchange,
    inbox,
    logger,
    metrics,
  });
}

export interface Consumer {
  /** Stops taking messages and waits for the ones in progress to finish. */
  close(): Promise<void>;
  readonly queues: ReturnType<typeof consumerQueues>;
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** How long a message that could not be settled waits before it goes back to its queue. */
const redeliveryPauseMs = 1_000;

/**
 * Consumes a queue with manual acks and a prefetch window: decode, skip duplicates through the inbox,
 * handle inside the event's call context, record, ack. A failure is republished to the retry queue of
 * the next delay (confirmed before the original is acked, so nothing is lost); after the last delay, or
 * at once for a message that cannot be decoded, it is parked with the reason for operators to replay.
 */
export async function startConsumer(options: ConsumerOptions): Promise<Consumer> {
  const { connection, logger, metrics, inbox } = options;
  const queues = consumerQueues(options.queue, options.retryDelaysMs ?? defaultRetryDelaysMs);
  const inFlight = new Set<Promise<void>>();
  // A duplicate arriving while the first copy is still being handled waits for it, then finds it in
  // the inbox. Duplicates handled at the same time by two instances are absorbed by the use case's
  // own idempotency (the event id is its request id).
  const handling = new Map<string, Promise<void>>();
  const count = (outcome: string) => metrics?.consumedMessages.inc({ queue: queues.queue, outcome });

  const channel = connection.createChannel({
    name: `${queues.queue}-consumer`,
    confirm: true,
    setup: async (ch: ConfirmChannel) => {
      await declareConsumerQueues(ch, queues, options.bindings, options.exchange ?? eventsExchange);
    },
  });

  /** Sends a copy to one of this consumer's queues, keeping the original routing key; confirmed. */
  async function forward(
    message: ConsumeMessage,
    queue: string,
    headers: Record<string, unknown>,
  ): Promise<void> {
    await channel.sendToQueue(queue, message.content, {
      ...message.properties,
      persistent: true,
      headers: {
        ...message.properties.headers,
        [originalRoutingKeyHeader]:
          message.properties.headers?.[originalRoutingKeyHeader] ?? message.fields.routingKey,
        ...headers,
      },
    });
  }

  async function park(message: ConsumeMessage, reason: string, attempts: number): Promise<void> {
    await forward(message, queues.parking, {
      "x-failure-reason": reason.slice(0, 1000),
      "x-failed-at": new Date().toISOString(),
      "x-attempts": attempts,
    });
    count("parked");
  }

  async function retry(message: ConsumeMessage, attempt: number, reason: string): Promise<void> {
    const next = queues.retry[attempt];
    if (!next) return park(message, reason, attempt + 1);
    await forward(message, next.name, {
      [attemptHeader]: attempt + 1,
      "x-last-error": reason.slice(0, 1000),
    });
    count("retried");
  }

  async function process(message: ConsumeMessage): Promise<void> {
    let event: ReceivedEvent;
    try {
      event = receivedEventFrom(message);
    } catch (error) {
      logger.warn({ queue: queues.queue, err: error }, "parking a message that cannot be decoded");
      await park(message, errorText(error), 1);
      channel.ack(message);
      return;
    }
    const earlier = handling.get(event.id);
    if (earlier) await earlier.catch(() => {});
    const current = handleOnce(message, event);
    handling.set(event.id, current);
    try {
      await current;
    } finally {
      if (handling.get(event.id) === current) handling.delete(event.id);
    }
  }

  async function handleOnce(message: ConsumeMessage, event: ReceivedEvent): Promise<void> {
    const span = startSpan(`process ${event.type}`, SpanKind.CONSUMER, parseTraceparent(event.traceparent), {
      "messaging.system": "rabbitmq",
      "messaging.operation.type": "process",
      "messaging.destination.name": queues.queue,
      "messaging.message.id": event.id,
      "messaging.message.conversation_id": event.correlationId,
    });
    const context = callContextFrom(event.correlationId, span.trace, event.source);
    let failure: unknown;
    await runWithCallContext(context, async () => {
      const log = logger.child({
        queue: queues.queue,
        eventId: event.id,
        type: event.type,
        correlationId: context.correlationId,
      });
      metrics?.consumerLag.observe(
        { queue: queues.queue },
        Math.max(0, (Date.now() - event.time.getTime()) / 1000),
      );
      if (inbox && (await inbox.has(event.id))) {
        count("duplicate");
        log.debug("duplicate event skipped");
        channel.ack(message);
        return;
      }
      const started = performance.now();
      try {
        await options.handle(event);
        await inbox?.record(event.id);
        channel.ack(message);
        count("handled");
        log.info({ attempt: event.attempt, ms: Math.round(performance.now() - started) }, "event handled");
      } catch (error) {
        failure = error;
        const reason = errorText(error);
        if (error instanceof UndecodableMessage) await park(message, reason, event.attempt + 1);
        else await retry(message, event.attempt, reason);
        channel.ack(message);
        log.warn({ attempt: event.attempt, err: error }, "event handling failed");
      }
    }).finally(() => span.end(failure));
  }

  await channel.waitForConnect();
  const { consumerTag } = await channel.consume(
    queues.queue,
    (message) => {
      const work = process(message).catch(async (error: unknown) => {
        // The inbox (database away) or the republish (broker away) failed: the message goes back to the
        // queue for another delivery, after a pause so a lasting outage is not a busy loop. Left
        // unacked, it would wait for this channel to close, which a database outage never causes.
        // Handled and not yet recorded in the inbox, it is handled again: the use case's own
        // idempotency (the event id is its request id) absorbs that.
        logger.error({ queue: queues.queue, err: error }, "could not settle message; it will be redelivered");
        await new Promise((resolve) => setTimeout(resolve, redeliveryPauseMs));
        try {
          channel.nack(message, false, true);
        } catch {
          // The channel is gone with the broker: the broker redelivers the message itself.
        }
      });
      inFlight.add(work);
      void work.finally(() => inFlight.delete(work));
    },
    { prefetch: options.prefetch ?? 16, noAck: false },
  );

  return {
    queues,
    async close() {
      await channel.cancel(consumerTag).catch(() => {});
      await Promise.allSettled([...inFlight]);
      await channel.close();
    },
  };
}

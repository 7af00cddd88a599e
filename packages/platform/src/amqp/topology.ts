import type { Channel } from "amqplib";

/** The one durable topic exchange all domain events go to; routing key "<domain>.<event>". */
export const eventsExchange = "retail.events";

/**
 * Quorum queues need an explicit delivery limit on RabbitMQ 3.10: past it a message that keeps coming
 * back (a consumer crashing on it) is dead-lettered to the parking queue instead of looping forever.
 */
export const quorumDeliveryLimit = 20;

/** Default retry delays: three tries after the first, then the parking queue. */
export const defaultRetryDelaysMs: readonly number[] = [1_000, 10_000, 60_000];

/** The queues one consumer owns: `<consumer>.<source>-events` plus its retry and parking queues. */
export interface ConsumerQueues {
  readonly queue: string;
  /** One TTL queue per delay: a failed message waits there, then dead-letters back to `queue`. */
  readonly retry: ReadonlyArray<{ readonly name: string; readonly delayMs: number }>;
  readonly parking: string;
}

export function consumerQueues(
  queue: string,
  retryDelaysMs: readonly number[] = defaultRetryDelaysMs,
): ConsumerQueues {
  return {
    queue,
    retry: retryDelaysMs.map((delayMs) => ({ name: `${queue}.retry.${delayMs}ms`, delayMs })),
    parking: `${queue}.parking`,
  };
}

export async function declareEventsExchange(channel: Channel, exchange = eventsExchange): Promise<void> {
  await channel.assertExchange(exchange, "topic", { durable: true });
}

/**
 * Declares a consumer's queues and binds the main queue to the events exchange. Idempotent: every
 * instance runs it at start and after each reconnection. The retry queues are classic queues with a
 * per-queue TTL (there is no delayed-message plugin on our brokers); main and parking are quorum queues.
 */
export async function declareConsumerQueues(
  channel: Channel,
  queues: ConsumerQueues,
  bindings: readonly string[],
  exchange = eventsExchange,
): Promise<void> {
  await declareEventsExchange(channel, exchange);
  await channel.assertQueue(queues.parking, { durable: true, arguments: { "x-queue-type": "quorum" } });
  await channel.assertQueue(queues.queue, {
    durable: true,
    arguments: {
      "x-queue-type": "quorum",
      "x-delivery-limit": quorumDeliveryLimit,
      "x-dead-letter-exchange": "",
      "x-dead-letter-routing-key": queues.parking,
    },
  });
  for (const retry of queues.retry) {
    await channel.assertQueue(retry.name, {
      durable: true,
      arguments: {
        "x-message-ttl": retry.delayMs,
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": queues.queue,
      },
    });
  }
  for (const pattern of bindings) await channel.bindQueue(queues.queue, exchange, pattern);
}

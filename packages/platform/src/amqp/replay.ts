import type { AmqpConnectionManager } from "amqp-connection-manager";
import type { ConfirmChannel, GetMessage } from "amqplib";
import { attemptHeader } from "./cloudevents.js";
import { consumerQueues } from "./topology.js";

/** The headers a parked message carries about its failure, dropped when it is replayed. */
const failureHeaders = ["x-failure-reason", "x-failed-at", "x-attempts"];

/**
 * Takes the messages parked now in `queue`'s parking queue once each (at most `max`), in order, and
 * lets `decide` say where each goes: back to the consumer's main queue for another round of tries
 * ("replay", its failure headers dropped and its attempts reset) or to the parking queue's tail
 * ("keep": a full pass leaves the order as it was, and nothing is requeued against quorum queues'
 * delivery limits). Each is confirmed where it goes before it leaves: a crash mid-way duplicates at
 * worst (consumers are idempotent by event id). Only what is parked now: a message that fails again is
 * parked anew and is not taken twice.
 */
export async function rotateParked(
  channel: ConfirmChannel,
  queue: string,
  decide: (message: GetMessage) => "replay" | "keep",
  max = Number.POSITIVE_INFINITY,
): Promise<{ replayed: number; kept: number }> {
  const queues = consumerQueues(queue);
  const { messageCount } = await channel.checkQueue(queues.parking);
  let replayed = 0;
  let kept = 0;
  for (let n = 0; n < Math.min(messageCount, max); n++) {
    const message = await channel.get(queues.parking, { noAck: false });
    if (!message) break;
    if (decide(message) === "replay") {
      const headers = Object.fromEntries(
        Object.entries(message.properties.headers ?? {}).filter(([name]) => !failureHeaders.includes(name)),
      );
      channel.sendToQueue(queues.queue, message.content, {
        ...message.properties,
        headers: { ...headers, [attemptHeader]: 0 },
      });
      replayed++;
    } else {
      channel.sendToQueue(queues.parking, message.content, message.properties);
      kept++;
    }
    await channel.waitForConfirms();
    channel.ack(message);
  }
  return { replayed, kept };
}

/**
 * Moves up to `limit` of the messages parked at the time of the call back to their consumer's main
 * queue for another round of tries (operators call this once the cause is fixed).
 */
export async function replayParked(
  connection: AmqpConnectionManager,
  queue: string,
  limit = 1_000,
): Promise<number> {
  return withConfirmChannel(connection, `${queue}-replay`, async (channel) => {
    const { replayed } = await rotateParked(channel, queue, () => "replay", limit);
    return replayed;
  });
}

/**
 * Runs `work` on a confirm channel of its own (opened on the managed connection, closed after),
 * for operator tasks that move messages between queues one by one.
 */
export async function withConfirmChannel<T>(
  connection: AmqpConnectionManager,
  name: string,
  work: (channel: ConfirmChannel) => Promise<T>,
): Promise<T> {
  const wrapper = connection.createChannel({ name, confirm: true });
  try {
    await wrapper.waitForConnect();
    let channel: ConfirmChannel | undefined;
    await wrapper.addSetup(async (ch: ConfirmChannel) => {
      channel = ch;
    });
    if (!channel) throw new Error(`channel ${name} not ready`);
    return await work(channel);
  } finally {
    await wrapper.close();
  }
}

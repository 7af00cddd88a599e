import type { AmqpConnectionManager } from "amqp-connection-manager";
import type { ConfirmChannel } from "amqplib";
import { attemptHeader } from "./cloudevents.js";
import { consumerQueues } from "./topology.js";

/**
 * Moves up to `limit` of the messages parked at the time of the call back to their consumer's main queue for another round of
 * tries (operators call this once the cause is fixed). Each is confirmed on the main queue before it
 * leaves the parking queue, so a failure mid-way duplicates at worst, which the inbox absorbs.
 */
export async function replayParked(
  connection: AmqpConnectionManager,
  queue: string,
  limit = 1_000,
): Promise<number> {
  const queues = consumerQueues(queue);
  return withConfirmChannel(connection, `${queue}-replay`, async (ch) => {
    let moved = 0;
    // Only what is parked now: a message that fails again is parked anew and must not loop here.
    const { messageCount } = await ch.checkQueue(queues.parking);
    while (moved < Math.min(limit, messageCount)) {
      const message = await ch.get(queues.parking, { noAck: false });
      if (!message) break;
      const {
        "x-failure-reason": _reason,
        "x-failed-at": _at,
        "x-attempts": _n,
        ...headers
      } = message.properties.headers ?? {};
      ch.sendToQueue(queues.queue, message.content, {
        ...message.properties,
        headers: { ...headers, [attemptHeader]: 0 },
      });
      await ch.waitForConfirms();
      ch.ack(message);
      moved++;
    }
    return moved;
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

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
  const channel = connection.createChannel({ name: `${queue}-replay`, confirm: true });
  try {
    await channel.waitForConnect();
    let moved = 0;
    let confirmChannel: ConfirmChannel | undefined;
    await channel.addSetup(async (ch: ConfirmChannel) => {
      confirmChannel = ch;
    });
    if (!confirmChannel) throw new Error("replay channel not ready");
    const ch: ConfirmChannel = confirmChannel;
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
  } finally {
    await channel.close();
  }
}

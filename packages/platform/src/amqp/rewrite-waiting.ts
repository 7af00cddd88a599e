import type { AmqpConnectionManager } from "amqp-connection-manager";
import type { Message } from "amqplib";
import { withConfirmChannel } from "./replay.js";
import { consumerQueues } from "./topology.js";

/**
 * Rewrites the messages waiting in a consumer's retry and parking queues (erasure: a parked event
 * must not keep what the source has erased). Each message present at the call is taken and its body
 * passed to `rewrite`: a new body goes back on the same queue with the same properties, confirmed
 * before the original is acked (a failure mid-way duplicates at worst, which the inbox absorbs);
 * undefined leaves the message where it was (held unacked while the queue is read, then returned).
 * Returns how many bodies changed.
 */
export async function rewriteWaiting(
  connection: AmqpConnectionManager,
  queue: string,
  rewrite: (message: Message) => Buffer | undefined,
  retryDelaysMs?: readonly number[],
): Promise<number> {
  const queues = consumerQueues(queue, retryDelaysMs);
  return withConfirmChannel(connection, `${queue}-rewrite`, async (ch) => {
    let changed = 0;
    for (const name of [queues.parking, ...queues.retry.map((r) => r.name)]) {
      const untouched: Message[] = [];
      const { messageCount } = await ch.checkQueue(name);
      for (let i = 0; i < messageCount; i++) {
        const message = await ch.get(name, { noAck: false });
        if (!message) break;
        const body = rewrite(message);
        if (!body) {
          untouched.push(message);
          continue;
        }
        ch.sendToQueue(name, body, message.properties);
        await ch.waitForConfirms();
        ch.ack(message);
        changed++;
      }
      for (const message of untouched) ch.nack(message, false, true);
    }
    return changed;
  });
}

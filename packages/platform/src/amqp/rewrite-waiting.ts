import type { AmqpConnectionManager } from "amqp-connection-manager";
import type { ConfirmChannel, Message } from "amqplib";
import { consumerQueues } from "./topology.js";

/**
 * Rewrites the messages waiting in a consumer's retry and parking queues (erasure: a parked event
 * must not keep what the source has erased). Each message present at the call is taken, its body
 * passed to `rewrite` (undefined keeps it), and put back on the same queue with the same properties,
 * confirmed before the original is acked: a failure mid-way duplicates at worst, which the inbox
 * absorbs. Returns how many bodies changed.
 */
export async function rewriteWaiting(
  connection: AmqpConnectionManager,
  queue: string,
  rewrite: (message: Message) => Buffer | undefined,
  retryDelaysMs?: readonly number[],
): Promise<number> {
  const queues = consumerQueues(queue, retryDelaysMs);
  const wrapper = connection.createChannel({ name: `${queue}-rewrite`, confirm: true });
  try {
    await wrapper.waitForConnect();
    let channel: ConfirmChannel | undefined;
    await wrapper.addSetup(async (ch: ConfirmChannel) => {
      channel = ch;
    });
    if (!channel) throw new Error("rewrite channel not ready");
    const ch: ConfirmChannel = channel;
    let changed = 0;
    for (const name of [queues.parking, ...queues.retry.map((r) => r.name)]) {
      const { messageCount } = await ch.checkQueue(name);
      for (let i = 0; i < messageCount; i++) {
        const message = await ch.get(name, { noAck: false });
        if (!message) break;
        const body = rewrite(message);
        if (!body) {
          // Untouched: back where it was, in a fresh copy, so this pass does not take it again.
          ch.sendToQueue(name, message.content, message.properties);
        } else {
          ch.sendToQueue(name, body, message.properties);
          changed++;
        }
        await ch.waitForConfirms();
        ch.ack(message);
      }
    }
    return changed;
  } finally {
    await wrapper.close();
  }
}

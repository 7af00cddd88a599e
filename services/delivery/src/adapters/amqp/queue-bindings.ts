import { type AmqpConnectionManager, withConfirmChannel } from "@retail/platform/amqp";
import type { Logger } from "@retail/platform/log";
import type { Db } from "mongodb";

/**
 * Keeps a queue's bindings to the events exchange as the subscriptions want them: binds the patterns
 * added, unbinds the ones no subscription wants any more. The set last bound is kept in MongoDB
 * (`queue_bindings`), so a pattern left by a subscription deleted while no instance ran is unbound at
 * the next start. Binding is idempotent on the broker: instances doing it at once agree.
 */
export function createQueueBindings(options: {
  connection: AmqpConnectionManager;
  db: Db;
  queue: string;
  exchange: string;
  logger: Logger;
}) {
  const state = options.db.collection<{ _id: string; patterns: string[] }>("queue_bindings");
  let current: readonly string[] | undefined;
  let running = Promise.resolve();
  const apply = async (wanted: readonly string[]) => {
    const stored = current ?? (await state.findOne({ _id: options.queue }))?.patterns ?? [];
    const added = wanted.filter((p) => current === undefined || !stored.includes(p));
    const removed = stored.filter((p) => !wanted.includes(p));
    if (added.length === 0 && removed.length === 0) return;
    await withConfirmChannel(options.connection, `${options.queue}-bindings`, async (channel) => {
      for (const pattern of added) await channel.bindQueue(options.queue, options.exchange, pattern);
      for (const pattern of removed) await channel.unbindQueue(options.queue, options.exchange, pattern);
    });
    await state.updateOne({ _id: options.queue }, { $set: { patterns: [...wanted] } }, { upsert: true });
    current = [...wanted];
    options.logger.info({ queue: options.queue, added, removed }, "queue bindings follow the subscriptions");
  };
  return {
    /** Brings the bindings to `wanted` (after any sync already running); failures are logged and retried on the next. */
    sync(wanted: readonly string[]): Promise<void> {
      running = running
        .then(() => apply(wanted))
        .catch((error: unknown) => {
          current = undefined;
          options.logger.warn({ err: error, queue: options.queue }, "could not bind the queue; trying again");
        });
      return running;
    },
  };
}

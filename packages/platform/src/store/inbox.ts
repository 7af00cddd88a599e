import type { Db } from "mongodb";
import { isDuplicateKey } from "./errors.js";

/** Event ids a consumer has handled: at-least-once delivery plus this gives effectively-once effects. */
export interface Inbox {
  has(eventId: string): Promise<boolean>;
  /** Records a handled event; recording one twice is harmless. */
  record(eventId: string): Promise<void>;
  /** Deletes records older than the cutoff (FerretDB has no TTL indexes, so a janitor calls this). */
  purgeOlderThan(cutoff: Date): Promise<number>;
  ensureIndexes(): Promise<void>;
}

export function createInbox(db: Db, consumer: string): Inbox {
  const inbox = db.collection<{ _id: string; consumer: string; processedAt: Date }>("inbox");
  const key = (eventId: string) => `${consumer}:${eventId}`;
  return {
    async has(eventId) {
      // A find by _id, not a count: a count is an aggregation pipeline, heavier on every engine.
      return (await inbox.findOne({ _id: key(eventId) }, { projection: { _id: 1 } })) !== null;
    },
    async record(eventId) {
      try {
        await inbox.insertOne({ _id: key(eventId), consumer, processedAt: new Date() });
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
      }
    },
    async purgeOlderThan(cutoff) {
      const { deletedCount } = await inbox.deleteMany({ consumer, processedAt: { $lt: cutoff } });
      return deletedCount;
    },
    async ensureIndexes() {
      await inbox.createIndex({ consumer: 1, processedAt: 1 }, { name: "consumer_age" });
    },
  };
}

/**
 * Purges records past their retention on an interval (an inbox's, kept plans). Retention must outlast
 * the longest redelivery or retry window (retries plus parking and replay), which is why the default
 * is a week.
 */
export function startJanitor(
  records: Pick<Inbox, "purgeOlderThan">,
  options: { retentionMs?: number; intervalMs?: number; onError?: (error: unknown) => void } = {},
): () => void {
  const retentionMs = options.retentionMs ?? 7 * 24 * 3600_000;
  const timer = setInterval(() => {
    records.purgeOlderThan(new Date(Date.now() - retentionMs)).catch(options.onError ?? (() => {}));
  }, options.intervalMs ?? 3600_000);
  timer.unref();
  return () => clearInterval(timer);
}

/** An inbox ready for a consumer's first event; `close` stops its janitor. */
export interface OpenInbox extends Inbox {
  close(): void;
}

/** Creates a consumer's inbox, makes its index and starts its janitor. */
export async function openInbox(
  db: Db,
  consumer: string,
  janitor: Parameters<typeof startJanitor>[1] = {},
): Promise<OpenInbox> {
  const inbox = createInbox(db, consumer);
  await inbox.ensureIndexes();
  return { ...inbox, close: startJanitor(inbox, janitor) };
}

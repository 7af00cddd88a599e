import type { Logger } from "../log/index.js";
import type { Metrics } from "../metrics/index.js";
import type { StoredEvent } from "./events.js";
import { type CommitDocument, type StreamStore, toStoredEvents } from "./stream-store.js";

/** Where relayed events go: resolves only once the broker has confirmed every one. */
export interface EventPublisher {
  publish(events: readonly StoredEvent[]): Promise<void>;
}

export interface OutboxRelay {
  start(): void;
  /** Resolves once nothing is left unpublished (or rejects after timeoutMs). */
  flush(timeoutMs?: number): Promise<void>;
  /** Stops after the batch in progress. */
  stop(): Promise<void>;
}

export interface OutboxRelayOptions {
  store: StreamStore;
  publisher: EventPublisher;
  logger: Logger;
  metrics?: Metrics;
  batchSize?: number;
  /**
   * How often to read the store for pending commits this process did not hand over itself (another
   * instance's, left by a crash, or left while the broker was away).
   */
  pollIntervalMs?: number;
  /** A poll takes only commits pending at least this long: younger ones are their appender's to send. */
  pollGraceMs?: number;
  /**
   * How long an append waits for others before the relay sends: commits appended meanwhile go out in
   * one publish and one settle. Adds at most this much to an event's latency.
   */
  lingerMs?: number;
  /** Commits handed over and waiting at most; past that the relay reads them from the store. */
  maxHandedOver?: number;
  /**
   * How long published commits may wait to be marked so, to be marked together: one update for the
   * batches of that time. A crash in between sends them again (consumers' inboxes absorb it).
   */
  settleLagMs?: number;
  /** First wait after a failed publish; doubles up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

/**
 * The transactional outbox: commits still `pending` are published with publisher confirms, then
 * marked published. A crash between the two publishes a commit again, which consumers absorb through
 * their inbox: delivery is at least once, effects exactly once.
 *
 * The commits this process appends are handed to the relay as they land (the store tells it), so the
 * usual pass reads nothing: it publishes them and settles them in one update. The store is read only
 * on a poll (commits pending past a grace: another instance's, or left by a crash), on start, on a
 * flush and after a failed publish, when everything pending is read again from the store, the truth.
 */
export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { store, publisher, logger, metrics } = options;
  const batchSize = options.batchSize ?? 500;
  const pollIntervalMs = options.pollIntervalMs ?? 1_000;
  const pollGraceMs = options.pollGraceMs ?? 5_000;
  const maxBackoffMs = options.maxBackoffMs ?? 30_000;
  const lingerMs = options.lingerMs ?? 0;
  const maxHandedOver = options.maxHandedOver ?? 5_000;
  const settleLagMs = options.settleLagMs ?? 100;
  // Published commits not yet marked so, and when the oldest of them must be.
  let toSettle: string[] = [];
  let settleDueAt = 0;
  let lingering: NodeJS.Timeout | undefined;
  // Commits appended in this process and not yet sent, in the order they landed.
  let handedOver: CommitDocument[] = [];
  // What the next pass reads from the store: everything pending, only what is past the grace, nothing.
  let storeRead: "all" | "past grace" | "none" = "all";
  let running = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  // Flushes wait for a whole pass that started after they asked and left nothing it could settle.
  let drained: Array<{ afterPass: number; resolve: () => void }> = [];
  let pass = 0;
  let unsubscribe: (() => void) | undefined;
  // While the broker is away, new appends must not cut the backoff short (they would hammer it).
  let backingOff = false;

  /** Sleeps up to `ms`; true when woken (an append, a flush) rather than at the end of the wait. */
  const sleep = (ms: number) =>
    new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => done(false), ms);
      function done(woken: boolean) {
        clearTimeout(timer);
        wake = undefined;
        resolve(woken);
      }
      wake = () => done(true);
    });

  async function settleNow(): Promise<void> {
    if (toSettle.length === 0) return;
    const ids = toSettle;
    toSettle = [];
    await store.settleOutbox(ids).catch((error: unknown) => {
      toSettle = [...ids, ...toSettle];
      throw error;
    });
  }

  /** The next batch: read from the store when due (without what it also holds), else the handed over. */
  async function nextBatch(): Promise<CommitDocument[]> {
    const reading = storeRead;
    if (reading === "none") return handedOver.splice(0, batchSize);
    await settleNow(); // what was published is not read again
    storeRead = "none";
    const olderThan = reading === "past grace" ? new Date(Date.now() - pollGraceMs) : undefined;
    const read = inStreamOrder(await store.outboxBatch(batchSize, olderThan));
    if (read.length === batchSize) storeRead = reading; // more to read: the next pass goes on
    const ids = new Set(read.map((c) => c._id));
    handedOver = handedOver.filter((c) => !ids.has(c._id));
    return read;
  }

  /** Publishes one batch; returns how many commits it settled and whether more are known to wait. */
  async function relayBatch(): Promise<{ settled: number; more: boolean }> {
    const batch = await nextBatch();
    // One confirmed publish of the whole batch (the channel keeps their order), then one update.
    const events = batch.flatMap(toStoredEvents);
    if (events.length > 0) {
      await publisher.publish(events);
      metrics?.outboxPublished.inc(events.length);
    }
    if (toSettle.length === 0) settleDueAt = Date.now() + settleLagMs;
    toSettle.push(...batch.map((c) => c._id));
    if (toSettle.length >= batchSize) await settleNow();
    return { settled: batch.length, more: storeRead !== "none" || handedOver.length > 0 };
  }

  async function run(): Promise<void> {
    let backoff = options.backoffMs ?? 500;
    while (running) {
      try {
        const thisPass = ++pass;
        const readsStore = storeRead !== "none";
        const { more } = await relayBatch();
        // What this process handed over and has not sent yet: its share of the backlog.
        metrics?.outboxBacklog.set(handedOver.length);
        backoff = options.backoffMs ?? 500;
        if (more) continue;
        // A flush is answered by a pass that read the whole outbox after it asked and left nothing,
        // once what it published is marked so. Otherwise published commits are marked when their lag
        // is up, unless an append comes first (it goes out, and is marked with them).
        const answering = readsStore ? drained.filter((d) => d.afterPass < thisPass) : [];
        if (answering.length > 0) {
          await settleNow();
          drained = drained.filter((d) => !answering.includes(d));
          for (const d of answering) d.resolve();
        } else if (toSettle.length > 0) {
          const wait = settleDueAt - Date.now();
          if (wait > 0 && running && (await sleep(wait))) continue;
          await settleNow();
        }
        if (running && !(await sleep(pollIntervalMs))) storeRead = "past grace";
      } catch (error) {
        metrics?.outboxPublishFailures.inc();
        logger.warn({ err: error, retryInMs: backoff }, "outbox relay could not publish; will retry");
        // What was handed over stays pending in the store: the retry reads it all from there.
        handedOver = [];
        storeRead = "all";
        backingOff = true;
        if (running) await sleep(backoff);
        backingOff = false;
        backoff = Math.min(backoff * 2, maxBackoffMs);
      }
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      storeRead = "all";
      unsubscribe = store.onAppended((commits) => {
        if (backingOff) return; // the retry reads the store
        if (handedOver.length + commits.length > maxHandedOver) storeRead = "all";
        else handedOver.push(...commits);
        if (lingering) return;
        lingering = setTimeout(() => {
          lingering = undefined;
          if (!backingOff) wake?.();
        }, lingerMs);
      });
      loop = run();
    },
    flush(timeoutMs = 10_000) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`outbox not drained within ${timeoutMs} ms`)),
          timeoutMs,
        );
        drained.push({
          afterPass: pass,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
        storeRead = "all";
        wake?.();
      });
    },
    async stop() {
      running = false;
      unsubscribe?.();
      clearTimeout(lingering);
      lingering = undefined;
      wake?.();
      await loop;
      await settleNow().catch(() => undefined); // else the next start sends them again
      drained = [];
      handedOver = [];
    },
  };
}

/**
 * The batch in recording order, except that each stream's commits go out in version order: instances'
 * clocks can disagree about `recordedAt`, versions cannot. A stream's commits keep the places its
 * commits had in the batch, taken in version order.
 */
export function inStreamOrder(batch: readonly CommitDocument[]): CommitDocument[] {
  const byStream = new Map<string, CommitDocument[]>();
  for (const commit of batch) {
    const commits = byStream.get(commit.streamId);
    if (commits) commits.push(commit);
    else byStream.set(commit.streamId, [commit]);
  }
  for (const commits of byStream.values()) commits.sort((a, b) => a.version - b.version);
  const taken = new Map<string, number>();
  return batch.map((commit) => {
    const next = taken.get(commit.streamId) ?? 0;
    taken.set(commit.streamId, next + 1);
    return byStream.get(commit.streamId)?.[next] ?? commit;
  });
}

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
  /** How often to look for commits when no append was seen in this process (other instances). */
  pollIntervalMs?: number;
  /**
   * How long an append waits for others before the relay reads: the commits of one unit of work (an
   * order's reservation, its holds and its confirmation) then go out in one read, one publish and one
   * settle instead of one each. Adds at most this much to an event's latency.
   */
  lingerMs?: number;
  /** First wait after a failed publish; doubles up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

/**
 * The transactional outbox: commits still `pending` are published in the order they were recorded,
 * with publisher confirms, then marked published. A crash between the two publishes a commit again,
 * which consumers absorb through their inbox: delivery is at least once, effects exactly once.
 */
export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { store, publisher, logger, metrics } = options;
  const batchSize = options.batchSize ?? 500;
  const pollIntervalMs = options.pollIntervalMs ?? 1_000;
  const maxBackoffMs = options.maxBackoffMs ?? 30_000;
  const lingerMs = options.lingerMs ?? 10;
  let lingering: NodeJS.Timeout | undefined;
  // An append (after its linger) or a flush since the relay last read: it reads again before sleeping.
  let readAgain = false;
  let running = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  // Flushes wait for a whole pass that started after they asked and left nothing it could settle.
  let drained: Array<{ afterPass: number; resolve: () => void }> = [];
  let pass = 0;
  let unsubscribe: (() => void) | undefined;
  // While the broker is away, new appends must not cut the backoff short (they would hammer it).
  let backingOff = false;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  /**
   * Publishes one batch; returns how many commits it settled and, when the batch held every pending
   * commit there was, how many it left (none).
   */
  async function relayBatch(): Promise<{ settled: number; left: number | undefined }> {
    const batch = inStreamOrder(await store.outboxBatch(batchSize));
    // One confirmed publish of the whole batch (the channel keeps their order), then one update.
    const events = batch.flatMap(toStoredEvents);
    if (events.length > 0) {
      await publisher.publish(events);
      metrics?.outboxPublished.inc(events.length);
    }
    await store.settleOutbox(batch.map((c) => c._id));
    return { settled: batch.length, left: batch.length < batchSize ? 0 : undefined };
  }

  async function run(): Promise<void> {
    let backoff = options.backoffMs ?? 500;
    while (running) {
      try {
        const thisPass = ++pass;
        readAgain = false;
        const { settled: published, left } = await relayBatch();
        // A batch that was not full saw the whole outbox: what it left is the backlog, no count needed.
        metrics?.outboxBacklog.set(left ?? (await store.unpublishedCount()));
        backoff = options.backoffMs ?? 500;
        if (published < batchSize) {
          const done = drained.filter((d) => d.afterPass < thisPass);
          drained = drained.filter((d) => d.afterPass >= thisPass);
          for (const d of done) d.resolve();
          // An append that landed, or a flush asked, while this batch was out: read again first.
          if (running && !readAgain) await sleep(pollIntervalMs);
        }
      } catch (error) {
        metrics?.outboxPublishFailures.inc();
        logger.warn({ err: error, retryInMs: backoff }, "outbox relay could not publish; will retry");
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
      unsubscribe = store.onAppended(() => {
        if (backingOff || lingering) return;
        lingering = setTimeout(() => {
          lingering = undefined;
          readAgain = true;
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
        readAgain = true;
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
      drained = [];
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

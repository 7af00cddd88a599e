import type { Logger } from "../log/index.js";
import type { Metrics } from "../metrics/index.js";
import type { StoredEvent } from "./events.js";
import { type StreamStore, toStoredEvents } from "./stream-store.js";

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
  /** First wait after a failed publish; doubles up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /**
   * A marker not marked ready after this long is settled by looking for its commit: published when it
   * is there (the append died after writing it), dropped when not.
   */
  orphanGraceMs?: number;
}

/**
 * The transactional outbox: commits with an outbox marker are published in the order they were
 * recorded, with publisher confirms, then their marker is removed. A crash between the two publishes a commit again, which
 * consumers absorb through their inbox: delivery is at least once, effects exactly once.
 */
export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { store, publisher, logger, metrics } = options;
  const batchSize = options.batchSize ?? 500;
  const pollIntervalMs = options.pollIntervalMs ?? 1_000;
  const maxBackoffMs = options.maxBackoffMs ?? 30_000;
  const orphanGraceMs = options.orphanGraceMs ?? 60_000;
  let running = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  // Flushes wait for a whole pass that started after they asked and left nothing it could settle.
  let drained: Array<{ afterPass: number; resolve: () => void }> = [];
  let pass = 0;
  let unsubscribe: (() => void) | undefined;
  // While the broker is away, new appends must not cut the backoff short (they would hammer it).
  let backingOff = false;
  // An append or a flush since the relay last read: it reads again before sleeping (one that came
  // while a batch was out would otherwise wait for the next poll).
  let readAgain = false;

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
   * Publishes one batch; returns how many markers it settled (published or dropped) and, when the
   * batch held every marker there was, how many it left.
   */
  async function relayBatch(): Promise<{ settled: number; left: number | undefined }> {
    const markers = await store.outboxBatch(batchSize);
    // A stream whose earlier commit is not ready yet waits, so its events go out in version order.
    const waiting = new Set<string>();
    const settle: typeof markers = [];
    const publish: typeof markers = [];
    for (const marker of markers) {
      if (waiting.has(marker.streamId)) continue;
      if (marker.ready) {
        publish.push(marker);
      } else if (Date.now() - marker.recordedAt.getTime() < orphanGraceMs) {
        waiting.add(marker.streamId);
        continue;
      } else if (await store.hasCommit(marker._id)) {
        publish.push(marker); // the append died after its commit: publish it
      }
      settle.push(marker); // ready, died after its commit, or its commit never landed
    }
    // One confirmed publish of the whole batch (the channel keeps their order), then one delete.
    const events = publish.flatMap(toStoredEvents);
    if (events.length > 0) {
      await publisher.publish(events);
      metrics?.outboxPublished.inc(events.length);
    }
    await store.settleOutbox(settle.map((m) => m._id));
    return {
      settled: settle.length,
      left: markers.length < batchSize ? markers.length - settle.length : undefined,
    };
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
        if (backingOff) return;
        readAgain = true;
        wake?.();
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
      wake?.();
      await loop;
      drained = [];
    },
  };
}

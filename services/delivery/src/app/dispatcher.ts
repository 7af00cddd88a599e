import { delivers } from "../domain/subscription.js";
import { type DispatchDeps, dispatchSubscription } from "./dispatch-deliveries.js";
import type { Leases } from "./ports.js";

export interface DispatcherOptions {
  /** How often pending deliveries are looked for when nothing wakes the dispatcher. */
  readonly pollMs: number;
  /** A pass over one subscription ends after this long, so its lease is renewed in time. */
  readonly passMs: number;
  readonly batch: number;
  readonly concurrency: number;
}

export interface Dispatcher {
  /** Looks for pending deliveries now (an event was just recorded here). */
  wake(): void;
  /** Ends the passes in progress after their current requests and releases the leases. */
  stop(): Promise<void>;
}

/** At most `perSecond` requests a second, a second's worth at once (a token bucket). */
function createPacer(perSecond: number): () => Promise<void> {
  let tokens = perSecond;
  let last = performance.now();
  let queue = Promise.resolve();
  return () => {
    const turn = queue.then(async () => {
      const now = performance.now();
      tokens = Math.min(perSecond, tokens + ((now - last) / 1000) * perSecond);
      last = now;
      if (tokens < 1) {
        await new Promise((resolve) => setTimeout(resolve, ((1 - tokens) / perSecond) * 1000));
        tokens = 1;
        last = performance.now();
      }
      tokens -= 1;
    });
    queue = turn;
    return turn;
  };
}

/**
 * Every instance runs one: each pass, every active subscription whose lease this instance holds (or
 * takes) gets a dispatch pass, all subscriptions at once, each at its own rate. A paused or deleted
 * subscription's lease is let go.
 */
export function startDispatcher(
  deps: DispatchDeps & { leases: Leases },
  options: DispatcherOptions,
): Dispatcher {
  let stopped = false;
  let wakeUp: (() => void) | undefined;
  let woken = false;
  const pacers = new Map<string, { rate: number; pace: () => Promise<void> }>();
  const held = new Set<string>();

  function paceOf(subscriptionId: string, rate: number) {
    let pacer = pacers.get(subscriptionId);
    if (!pacer || pacer.rate !== rate) {
      pacer = { rate, pace: createPacer(rate) };
      pacers.set(subscriptionId, pacer);
    }
    return pacer.pace;
  }

  async function pass(): Promise<void> {
    await Promise.all(
      deps.cache.current().map(async (subscription) => {
        const id = subscription.subscriptionId;
        if (!delivers(subscription)) {
          if (held.delete(id)) await deps.leases.release(id);
          return;
        }
        if (!(await deps.leases.hold(id))) {
          held.delete(id);
          return;
        }
        held.add(id);
        const ends = performance.now() + options.passMs;
        await dispatchSubscription(deps, subscription, {
          batch: options.batch,
          concurrency: options.concurrency,
          pace: paceOf(id, subscription.maxPerSecond),
          stopping: () => stopped || performance.now() > ends,
        });
      }),
    );
  }

  const loop = (async () => {
    while (!stopped) {
      woken = false;
      try {
        await pass();
      } catch (error) {
        deps.logger.error({ err: error }, "dispatch pass failed; trying again");
      }
      if (stopped || woken) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.pollMs);
        wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wakeUp = undefined;
    }
  })();

  return {
    wake() {
      woken = true;
      wakeUp?.();
    },
    async stop() {
      stopped = true;
      wakeUp?.();
      await loop;
      await Promise.allSettled([...held].map((id) => deps.leases.release(id)));
    },
  };
}

import type { Subscription } from "@retail/contracts/retail/delivery/v1/delivery_pb";
import type { Logger } from "@retail/platform/log";
import type { SubscriptionCache, SubscriptionStore } from "../../app/ports.js";

/** How far back each refresh looks past the last one: the writers' clocks may differ by that much. */
const clockSkewMs = 5_000;

/**
 * This instance's copy of the subscriptions: loaded whole at start, then every `refreshMs` the ones
 * changed since the last look are read again (so a change made through another instance applies here
 * within that), and a change made here at once. A newer version never gives way to an older one.
 */
export async function startSubscriptionCache(
  store: SubscriptionStore,
  refreshMs: number,
  logger: Logger,
  /** Told of the subscriptions at start, after a refresh that changed any, and after a change made here. */
  onChange: (subscriptions: readonly Subscription[]) => Promise<void> | void = () => {},
): Promise<SubscriptionCache & { stop(): void }> {
  const byId = new Map<string, Subscription>();
  let list: Subscription[] = [];
  /** Keeps a subscription unless this one is as new already; whether it did. */
  const take = (subscription: Subscription): boolean => {
    const known = byId.get(subscription.subscriptionId);
    if (known && known.version >= subscription.version) return false;
    byId.set(subscription.subscriptionId, subscription);
    return true;
  };
  let lookedAt = Date.now();
  for (const subscription of await store.all()) take(subscription);
  list = [...byId.values()];
  await onChange(list);
  const refresh = async () => {
    const since = new Date(lookedAt - clockSkewMs);
    lookedAt = Date.now();
    let changed = false;
    for (const subscription of await store.changedSince(since)) changed = take(subscription) || changed;
    if (!changed) return;
    list = [...byId.values()];
    await onChange(list);
  };
  const timer = setInterval(() => {
    refresh().catch((error: unknown) => logger.warn({ err: error }, "could not refresh subscriptions"));
  }, refreshMs);
  timer.unref();
  return {
    current: () => list,
    async put(subscription) {
      if (take(subscription)) list = [...byId.values()];
      await onChange(list);
    },
    stop: () => clearInterval(timer),
  };
}

import type { Subscription } from "@retail/contracts/retail/delivery/v1/delivery_pb";
import type { Logger } from "@retail/platform/log";
import type { SubscriptionCache, SubscriptionStore } from "../../app/ports.js";

/**
 * This instance's copy of the subscriptions: loaded at start, reloaded every `refreshMs` (so a change
 * made through another instance applies here within that), and updated at once by changes made here.
 * A newer version never gives way to an older one.
 */
export async function startSubscriptionCache(
  store: SubscriptionStore,
  refreshMs: number,
  logger: Logger,
  /** Told of the subscriptions after every reload and every change made here. */
  onChange: (subscriptions: readonly Subscription[]) => Promise<void> | void = () => {},
): Promise<SubscriptionCache & { stop(): void }> {
  let byId = new Map<string, Subscription>();
  let list: Subscription[] = [];
  const put = async (subscription: Subscription) => {
    const known = byId.get(subscription.subscriptionId);
    if (known && known.version > subscription.version) return;
    byId.set(subscription.subscriptionId, subscription);
    list = [...byId.values()];
    await onChange(list);
  };
  const reload = async () => {
    const loaded = await store.all();
    const previous = byId;
    byId = new Map();
    for (const subscription of loaded) {
      const known = previous.get(subscription.subscriptionId);
      byId.set(
        subscription.subscriptionId,
        known && known.version > subscription.version ? known : subscription,
      );
    }
    list = [...byId.values()];
    await onChange(list);
  };
  await reload();
  const timer = setInterval(() => {
    reload().catch((error: unknown) => logger.warn({ err: error }, "could not reload subscriptions"));
  }, refreshMs);
  timer.unref();
  return { current: () => list, put, stop: () => clearInterval(timer) };
}

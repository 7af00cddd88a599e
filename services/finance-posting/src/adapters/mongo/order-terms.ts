import { ignoreDuplicateKey, RecentlyUsed } from "@retail/platform/store";
import type { Db } from "mongodb";
import type { OrderTerms, OrderTermsStore } from "../../app/ports.js";

/**
 * What finance keeps of an accepted order to post its later events: channel, store, shipping. Terms
 * are written once and never change, so the ones this instance saved or read last are answered from
 * memory (every later event of an order reads them).
 */
export function createOrderTerms(db: Db, options: { cacheSize?: number } = {}): OrderTermsStore {
  const known = new RecentlyUsed<string, OrderTerms>(options.cacheSize ?? 20_000);
  const remember = (t: OrderTerms) => known.set(t.orderId, t);
  const terms = db.collection<{
    _id: string;
    channel: string;
    storeId: string;
    currency: string;
    shipping: string;
  }>("order_terms");
  return {
    async save(t) {
      const inserted = await terms
        .insertOne({
          _id: t.orderId,
          channel: t.channel,
          storeId: t.storeId,
          currency: t.currency,
          shipping: t.shipping.toString(),
        })
        .then(
          () => true,
          (error: unknown) => {
            ignoreDuplicateKey(error);
            return false;
          },
        );
      // The first save stands: after a repeat, what was stored first is what later events read.
      if (inserted) remember(t);
      else known.delete(t.orderId);
    },
    async get(orderId) {
      const cached = known.get(orderId);
      if (cached) return cached;
      const d = await terms.findOne({ _id: orderId });
      if (!d) return undefined;
      const found = {
        orderId,
        channel: d.channel,
        storeId: d.storeId,
        currency: d.currency,
        shipping: BigInt(d.shipping),
      };
      remember(found);
      return found;
    },
  };
}

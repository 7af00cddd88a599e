import { ignoreDuplicateKey } from "@retail/platform/store";
import type { Db } from "mongodb";
import type { OrderTermsStore } from "../../app/ports.js";

/** What finance keeps of an accepted order to post its later events: channel, store, shipping. */
export function createOrderTerms(db: Db): OrderTermsStore {
  const terms = db.collection<{
    _id: string;
    channel: string;
    storeId: string;
    currency: string;
    shipping: string;
  }>("order_terms");
  return {
    async save(t) {
      await terms
        .insertOne({
          _id: t.orderId,
          channel: t.channel,
          storeId: t.storeId,
          currency: t.currency,
          shipping: t.shipping.toString(),
        })
        .catch(ignoreDuplicateKey);
    },
    async get(orderId) {
      const d = await terms.findOne({ _id: orderId });
      return d
        ? {
            orderId,
            channel: d.channel,
            storeId: d.storeId,
            currency: d.currency,
            shipping: BigInt(d.shipping),
          }
        : undefined;
    },
  };
}

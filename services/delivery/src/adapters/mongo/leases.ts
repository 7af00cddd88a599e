import { randomUUID } from "node:crypto";
import { isDuplicateKey } from "@retail/platform/store";
import type { Db } from "mongodb";
import type { Leases } from "../../app/ports.js";

interface LeaseDocument {
  _id: string;
  holder: string;
  expiresAt: Date;
}

/**
 * Leases on subscriptions (`leases`), taken by inserting under a unique id, which is atomic on MongoDB
 * and FerretDB alike: a lapsed lease is removed by its holder's token and taken by a new insert, so of
 * two instances taking it over one wins. The holder renews it once a third of its term has passed.
 */
export function createLeases(db: Db, termMs: number): Leases {
  const leases = db.collection<LeaseDocument>("leases");
  const holder = randomUUID();
  const renewed = new Map<string, number>();
  return {
    async hold(subscriptionId) {
      const id = `subscription:${subscriptionId}`;
      const now = Date.now();
      const last = renewed.get(id);
      if (last !== undefined && now - last < termMs / 3) return true;
      const expiresAt = new Date(now + termMs);
      const current = await leases.findOne({ _id: id });
      if (current?.holder === holder) {
        await leases.updateOne({ _id: id, holder }, { $set: { expiresAt } });
        renewed.set(id, now);
        return true;
      }
      if (current && current.expiresAt.getTime() > now) {
        renewed.delete(id);
        return false;
      }
      if (current) await leases.deleteOne({ _id: id, holder: current.holder, expiresAt: current.expiresAt });
      try {
        await leases.insertOne({ _id: id, holder, expiresAt });
      } catch (error) {
        if (isDuplicateKey(error)) return false;
        throw error;
      }
      renewed.set(id, now);
      return true;
    },
    async release(subscriptionId) {
      const id = `subscription:${subscriptionId}`;
      renewed.delete(id);
      await leases.deleteOne({ _id: id, holder });
    },
  };
}

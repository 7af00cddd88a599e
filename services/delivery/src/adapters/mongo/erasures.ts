import { isDuplicateKey } from "@retail/platform/store";
import type { Db } from "mongodb";

/**
 * The customers erased (`erasures`), kept so that an erasure outlasts a lost write: on FerretDB an
 * update is a query then a write, so the dispatcher marking a delivery sent can put back the personal
 * fields an erasure had just emptied. Deliveries naming an erased customer are redacted again on the
 * way out and by a sweep over the recent erasures.
 */
export function createErasures(db: Db) {
  const erasures = db.collection<{ _id: string; at: Date }>("erasures");
  return {
    async record(customerId: string, at: Date): Promise<void> {
      try {
        await erasures.insertOne({ _id: customerId, at });
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
      }
    },
    /** The customers erased at or after `since`. */
    async since(since: Date): Promise<string[]> {
      return (await erasures.find({ at: { $gte: since } }).toArray()).map((e) => e._id);
    },
    /** Whether any of the customers was erased (one lookup by id each). */
    async anyOf(customerIds: readonly string[]): Promise<boolean> {
      for (const _id of customerIds) if (await erasures.findOne({ _id })) return true;
      return false;
    },
  };
}

export type Erasures = ReturnType<typeof createErasures>;

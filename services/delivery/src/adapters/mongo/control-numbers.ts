import { isDuplicateKey } from "@retail/platform/store";
import type { Db } from "mongodb";

/** Interchange control numbers (ISA13, 1 to 999,999,999) per subscription, each given out once. */
export interface ControlNumbers {
  next(subscriptionId: string): Promise<number>;
}

interface ControlNumberDocument {
  _id: string;
  subscriptionId: string;
  n: number;
}

const maxControl = 999_999_999;

/**
 * Control numbers taken by inserting `<subscription>:<n>` under the unique _id (atomic on MongoDB and
 * FerretDB alike, so two instances never take one number); the next try after a taken one is one up.
 * Each instance starts after the highest taken.
 */
export function createControlNumbers(db: Db): ControlNumbers & { ensureIndexes(): Promise<void> } {
  const numbers = db.collection<ControlNumberDocument>("x12_control_numbers");
  const last = new Map<string, number>();
  return {
    async ensureIndexes() {
      await numbers.createIndex({ subscriptionId: 1, n: -1 });
    },
    async next(subscriptionId) {
      let n = last.get(subscriptionId);
      if (n === undefined) {
        const [highest] = await numbers.find({ subscriptionId }).sort({ n: -1 }).limit(1).toArray();
        n = highest?.n ?? 0;
      }
      for (;;) {
        n = n >= maxControl ? 1 : n + 1;
        try {
          await numbers.insertOne({ _id: `${subscriptionId}:${n}`, subscriptionId, n });
          last.set(subscriptionId, n);
          return n;
        } catch (error) {
          if (!isDuplicateKey(error)) throw error;
        }
      }
    },
  };
}

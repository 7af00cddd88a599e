import type { Db } from "mongodb";
import type { PendingTransfers } from "../../app/ports.js";
import type { Movement } from "../../domain/stock-position.js";

type TransferDocument = Movement & { _id: string; begunAt: Date };

/**
 * `pending-transfers`: one document per transfer between its two ledger appends, removed after the
 * second. Small by nature (only transfers in flight), so the sweep reads it whole.
 */
export function createPendingTransfers(db: Db): PendingTransfers {
  const transfers = db.collection<TransferDocument>("pending-transfers");
  return {
    async begin(movement) {
      await transfers.replaceOne(
        { _id: movement.movementId },
        { ...movement, begunAt: new Date() },
        { upsert: true },
      );
    },
    async end(movementId) {
      await transfers.deleteOne({ _id: movementId });
    },
    async olderThan(cutoff) {
      const found = await transfers.find({}).toArray();
      return found.filter((d) => d.begunAt < cutoff).map(({ _id, begunAt, ...movement }) => movement);
    },
  };
}

import { ignoreDuplicateKey } from "@retail/platform/store";
import type { Db } from "mongodb";
import type { ExportBatches } from "../../app/ports.js";

/** ERP export batches: begun before they claim entries, claims one per entry, finished with their file. */
export function createExportBatches(db: Db): ExportBatches {
  const batches = db.collection<{
    _id: string;
    batchId: string;
    adapter: string;
    startedAt: Date;
    /** The request's fingerprint (absent on batches begun before it was kept). */
    fingerprint?: string;
    finished: boolean;
    entryIds?: string[];
    location?: string;
    exportedAt?: Date;
  }>("export_batches");
  const claims = db.collection<{ _id: string; batchId: string }>("export_claims");
  const entries = db.collection<{ _id: string; batchId?: string }>("entries");
  return {
    async byRequest(requestKey) {
      const d = await batches.findOne({ _id: requestKey });
      return d?.finished
        ? {
            batchId: d.batchId,
            adapter: d.adapter,
            entryIds: d.entryIds ?? [],
            location: d.location ?? "",
            exportedAt: d.exportedAt ?? d.startedAt,
            ...(d.fingerprint ? { fingerprint: d.fingerprint } : {}),
          }
        : undefined;
    },
    async begin(batch) {
      await batches
        .insertOne({
          _id: batch.requestKey,
          batchId: batch.batchId,
          adapter: batch.adapter,
          startedAt: batch.startedAt,
          fingerprint: batch.fingerprint,
          finished: false,
        })
        .catch(ignoreDuplicateKey);
    },
    async unfinished(before) {
      const open = await batches.find({ finished: false }).toArray();
      return open
        .filter((d) => d.startedAt < before)
        .map((d) => ({
          requestKey: d._id,
          batchId: d.batchId,
          adapter: d.adapter,
          startedAt: d.startedAt,
          fingerprint: d.fingerprint ?? "",
        }));
    },
    async claim(batchId, entryIds) {
      const got: string[] = [];
      for (const id of entryIds) {
        const mine = await claims.insertOne({ _id: id, batchId }).then(
          () => true,
          async (error: unknown) => {
            ignoreDuplicateKey(error);
            return (await claims.findOne({ _id: id }))?.batchId === batchId;
          },
        );
        // The entry leaves the unexported list whoever claimed it.
        const holder = mine ? batchId : ((await claims.findOne({ _id: id }))?.batchId ?? batchId);
        await entries.updateOne({ _id: id }, { $set: { batchId: holder } });
        if (mine) got.push(id);
      }
      return got;
    },
    async claimedBy(batchId) {
      const found = await claims.find({ batchId }).project<{ _id: string }>({ _id: 1 }).toArray();
      return found.map((d) => d._id).sort();
    },
    async save(requestKey, batch) {
      await batches.updateOne(
        { _id: requestKey },
        {
          $set: {
            finished: true,
            entryIds: [...batch.entryIds],
            location: batch.location,
            exportedAt: batch.exportedAt,
          },
        },
      );
    },
    countSince: (adapter, since) => batches.countDocuments({ adapter, exportedAt: { $gte: since } }),
  };
}

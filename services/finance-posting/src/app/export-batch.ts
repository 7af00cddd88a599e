import { createHash } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { ErpBatchExportedSchema } from "@retail/contracts/retail/finance/v1/finance_events_pb";
import { NotFound, RateLimited } from "../domain/errors.js";
import type { ExportBatch, FinanceDeps } from "./ports.js";

/**
 * Exports the entries no batch has taken yet through an ERP adapter, as one batch with its own id.
 * A retry with the same request id gives the same batch (written again, never a second one); entries
 * are claimed one by one, so two batches never share an entry; the adapter's rate limit is kept.
 */
export async function exportBatch(
  deps: FinanceDeps,
  command: { requestId: string; adapter: string; maxEntries: number },
): Promise<ExportBatch> {
  const adapter = deps.erp.get(command.adapter);
  if (!adapter) throw new NotFound("ERP adapter", command.adapter);
  const requestKey = `finance.ExportJournalBatch:${command.requestId}`;
  const batchId = `batch-${createHash("sha256").update(requestKey).digest("hex").slice(0, 20)}`;
  return deps.lock(requestKey, async () => {
    const earlier = await deps.exports.byRequest(requestKey);
    if (earlier) {
      const entries = await Promise.all(earlier.entryIds.map((id) => deps.journal.get(id)));
      await adapter.write(
        earlier.batchId,
        entries.flatMap((e) => (e ? [e.entry] : [])),
        deps.rules.accounts,
      );
      return earlier;
    }
    const now = deps.clock.now();
    if (
      (await deps.exports.countSince(adapter.name, new Date(now.getTime() - 60_000))) >= adapter.ratePerMinute
    ) {
      throw new RateLimited(adapter.name, 60);
    }
    const limit = Math.min(command.maxEntries || adapter.maxEntries, adapter.maxEntries);
    const candidates = await deps.journal.unexported(limit);
    const claimed = new Set(
      await deps.exports.claim(
        batchId,
        candidates.map((c) => c.entry.entryId),
      ),
    );
    const entries = candidates.filter((c) => claimed.has(c.entry.entryId)).map((c) => c.entry);
    const location = await adapter.write(batchId, entries, deps.rules.accounts);
    const batch: ExportBatch = {
      batchId,
      adapter: adapter.name,
      entryIds: entries.map((e) => e.entryId),
      location,
      exportedAt: now,
    };
    await deps.exports.save(requestKey, batch);
    await deps.events.publish(
      `export:${batchId}`,
      create(ErpBatchExportedSchema, { batchId, adapter: adapter.name, entryIds: [...batch.entryIds] }),
    );
    return batch;
  });
}

import { createHash } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { ErpBatchExportedSchema } from "@retail/contracts/retail/finance/v1/finance_events_pb";
import { IdempotencyKeyReused, requestKey as key, type RequestRef } from "@retail/platform/store";
import { NotFound, RateLimited } from "../domain/errors.js";
import type { ErpAdapter, ExportBatch, FinanceDeps, UnfinishedBatch } from "./ports.js";

/**
 * Exports the entries no batch has taken yet through an ERP adapter, as one batch with its own id.
 * A retry with the same request id gives the same batch (written again, never a second one); entries
 * are claimed one by one, so two batches never share an entry; the adapter's rate limit is kept. The
 * batch is recorded before it claims anything: a crash between claiming and writing is resumed by a
 * retry of the same request, or finished by the next export once the adapter's `strandedAfterMs` passed, so no entry is stranded.
 */
export async function exportBatch(
  deps: FinanceDeps,
  command: { request: RequestRef; adapter: string; maxEntries: number },
): Promise<ExportBatch> {
  const adapter = deps.erp.get(command.adapter);
  if (!adapter) throw new NotFound("ERP adapter", command.adapter);
  const requestKey = key("finance.ExportJournalBatch", command.request.id);
  const batchId = `batch-${createHash("sha256").update(requestKey).digest("hex").slice(0, 20)}`;
  return deps.lock(requestKey, async () => {
    const earlier = await deps.exports.byRequest(requestKey);
    if (earlier) {
      // A batch from before fingerprints were kept is a replay by its key alone.
      if (earlier.fingerprint && earlier.fingerprint !== command.request.fingerprint)
        throw new IdempotencyKeyReused(requestKey);
      await writeBatch(deps, adapter, earlier.batchId, earlier.entryIds);
      return earlier;
    }
    const now = deps.clock.now();
    for (const stranded of await deps.exports.unfinished(new Date(now.getTime() - adapter.strandedAfterMs))) {
      if (stranded.requestKey !== requestKey) await finishStranded(deps, stranded);
    }
    const resumed = await deps.exports.claimedBy(batchId);
    if (resumed.length === 0) {
      if (
        (await deps.exports.countSince(adapter.name, new Date(now.getTime() - 60_000))) >=
        adapter.ratePerMinute
      ) {
        throw new RateLimited(adapter.name, 60);
      }
      await deps.exports.begin({
        requestKey,
        batchId,
        adapter: adapter.name,
        startedAt: now,
        fingerprint: command.request.fingerprint,
      });
    }
    const limit = Math.min(command.maxEntries || adapter.maxEntries, adapter.maxEntries);
    const room = limit - resumed.length;
    const candidates = room > 0 ? await deps.journal.unexported(room) : [];
    const claimed = await deps.exports.claim(
      batchId,
      candidates.map((c) => c.entry.entryId),
    );
    return finish(deps, adapter, requestKey, batchId, [...resumed, ...claimed], now);
  });
}

/** Writes a batch's entries through its adapter (the same batch id replaces itself in the ERP). */
async function writeBatch(
  deps: FinanceDeps,
  adapter: ErpAdapter,
  batchId: string,
  entryIds: readonly string[],
): Promise<string> {
  const entries = await Promise.all(entryIds.map((id) => deps.journal.get(id)));
  return adapter.write(
    batchId,
    entries.flatMap((e) => (e ? [e.entry] : [])),
    deps.rules.accounts,
  );
}

async function finish(
  deps: FinanceDeps,
  adapter: ErpAdapter,
  requestKey: string,
  batchId: string,
  entryIds: readonly string[],
  exportedAt: Date,
): Promise<ExportBatch> {
  const location = await writeBatch(deps, adapter, batchId, entryIds);
  const batch: ExportBatch = { batchId, adapter: adapter.name, entryIds, location, exportedAt };
  await deps.exports.save(requestKey, batch);
  await deps.events.publish(
    `export:${batchId}`,
    create(ErpBatchExportedSchema, { batchId, adapter: adapter.name, entryIds: [...entryIds] }),
  );
  return batch;
}

/** Finishes a batch another export left between claiming and writing: its claimed entries, as claimed. */
async function finishStranded(deps: FinanceDeps, stranded: UnfinishedBatch): Promise<void> {
  const adapter = deps.erp.get(stranded.adapter);
  if (!adapter) return;
  await deps.lock(stranded.requestKey, async () => {
    const entryIds = await deps.exports.claimedBy(stranded.batchId);
    await finish(deps, adapter, stranded.requestKey, stranded.batchId, entryIds, deps.clock.now());
  });
}

import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  ReconciliationExceptionRaisedSchema,
  ReconciliationExceptionResolvedSchema,
} from "@retail/contracts/retail/finance/v1/finance_events_pb";
import {
  type ReconciliationException,
  ReconciliationExceptionSchema,
  ReconciliationItemSchema,
  ReconciliationStatus,
} from "@retail/contracts/retail/finance/v1/finance_pb";
import { money } from "../domain/money.js";
import type { FinanceDeps } from "./ports.js";

const exceptionIdOf = (entryId: string) => `ex-unsettled-${entryId}`;

/**
 * Raises an exception for every capture, refund and chargeback posted with a processor reference more
 * than `graceDays` ago that no settlement has covered: money the ledger expects from (or owes to) a
 * provider that never showed up in its files. Once per entry, whoever runs it; a settlement that
 * covers the entry later resolves it.
 */
export async function raiseUnsettledItems(
  deps: FinanceDeps,
  options: { graceDays: number },
): Promise<number> {
  const cutoff = new Date(deps.clock.now().getTime() - options.graceDays * 86_400_000)
    .toISOString()
    .slice(0, 10);
  let raised = 0;
  for (const stored of await deps.journal.unsettledUpTo(cutoff)) {
    const exceptionId = exceptionIdOf(stored.entry.entryId);
    if (await deps.exceptions.get(exceptionId)) continue;
    const currency = stored.entry.lines[0]?.amount?.currencyCode ?? "";
    const item = create(ReconciliationItemSchema, {
      providerReference: stored.providerReference,
      status: ReconciliationStatus.MISSING_IN_SETTLEMENT,
      expected: money(currency, stored.amount),
      journalEntryId: stored.entry.entryId,
      reason: `${stored.fact.replaceAll("_", " ")} of order ${stored.orderId} posted ${stored.entry.postingDate}, in no settlement after ${options.graceDays} days`,
    });
    await deps.exceptions.raise(
      create(ReconciliationExceptionSchema, {
        exceptionId,
        item,
        periodId: stored.entry.periodId,
        createTime: timestampFromDate(deps.clock.now()),
      }),
    );
    await deps.events.publish(
      `exception:${exceptionId}`,
      create(ReconciliationExceptionRaisedSchema, { settlementId: "", item, exceptionId }),
    );
    raised++;
    // A settlement that covered the entry while this ran found no exception to resolve: do it here.
    const settledBy = (await deps.journal.get(stored.entry.entryId))?.settledBy;
    if (settledBy) await resolveUnsettled(deps, [stored.entry.entryId], settledBy);
  }
  return raised;
}

/** Resolves the missing-in-settlement exceptions of entries a settlement has now covered. */
export async function resolveUnsettled(
  deps: FinanceDeps,
  entryIds: readonly string[],
  settlementId: string,
): Promise<void> {
  for (const entryId of entryIds) {
    const open = await deps.exceptions.get(exceptionIdOf(entryId));
    if (!open) continue;
    await resolveException(deps, open, `settled late by ${settlementId}`, `settlement:${settlementId}`);
  }
}

/**
 * Resolves an exception of the work list, once, and says so on the bus (who resolved it, and how). A
 * repeat (a retry after a crash between the two writes) publishes what was recorded, once.
 */
export async function resolveException(
  deps: FinanceDeps,
  exception: ReconciliationException,
  resolution: string,
  resolvedBy: string,
): Promise<ReconciliationException> {
  const resolved = exception.resolved
    ? exception
    : create(ReconciliationExceptionSchema, {
        ...exception,
        resolved: true,
        resolution,
        resolveTime: timestampFromDate(deps.clock.now()),
      });
  if (!exception.resolved) await deps.exceptions.save(resolved);
  // A stream of its own: `exception:<id>` has the raising, and each stream is published once.
  await deps.events.publish(
    `exception-resolved:${exception.exceptionId}`,
    create(ReconciliationExceptionResolvedSchema, {
      exceptionId: exception.exceptionId,
      resolution: resolved.resolution,
      resolvedBy,
    }),
  );
  return resolved;
}

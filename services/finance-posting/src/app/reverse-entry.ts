import { create } from "@bufbuild/protobuf";
import { JournalEntryReversedSchema } from "@retail/contracts/retail/finance/v1/finance_events_pb";
import { EntrySide, type JournalEntry } from "@retail/contracts/retail/finance/v1/finance_pb";
import { NotFound, RuleViolated } from "../domain/errors.js";
import type { FinanceDeps } from "./ports.js";
import { entryIdOf, postEntry } from "./record-posting.js";

/**
 * Corrects an entry the only way the journal allows: a reversing entry with every line on the other
 * side, pointing to the original (dated today, in the first open period). An entry is reversed once.
 */
export async function reverseEntry(
  deps: FinanceDeps,
  command: { entryId: string; reason: string },
): Promise<JournalEntry> {
  const original = await deps.journal.get(command.entryId);
  if (!original) throw new NotFound("journal entry", command.entryId);
  if (original.entry.reversesEntryId) {
    throw new RuleViolated(
      "REVERSAL_OF_REVERSAL",
      `entry ${command.entryId} is itself a reversal: post a new entry instead`,
    );
  }
  const key = `reversal:${command.entryId}`;
  const existing = await deps.journal.get(entryIdOf(key));
  if (existing) return existing.entry;
  const { entry } = original;
  const currency = entry.lines[0]?.amount?.currencyCode ?? "";
  const reversing = await postEntry(deps, {
    key,
    postingDate: deps.clock.now().toISOString().slice(0, 10),
    description: `reversal of ${entry.entryId}${command.reason ? `: ${command.reason}` : ""}`,
    currency,
    lines: entry.lines.map((l) => ({
      account: l.accountCode,
      side: l.side === EntrySide.DEBIT ? "credit" : "debit",
      amount: l.amount?.minorUnits ?? 0n,
      sku: l.sku,
      taxCode: l.taxCode,
      paymentMethod: l.paymentMethod,
    })),
    source: {
      eventId: entry.source?.eventId ?? "",
      eventType: "reversal",
      orderId: entry.source?.orderId ?? "",
      channel: "",
      storeId: entry.source?.storeId ?? "",
      settlementId: entry.source?.settlementId ?? "",
    },
    meta: {
      fact: `reversal_of_${original.fact}`,
      orderId: original.orderId,
      provider: "",
      providerReference: "",
      amount: 0n,
    },
    reverses: entry.entryId,
  });
  const posted = reversing ?? (await deps.journal.get(entryIdOf(key)))?.entry;
  if (!posted) throw new Error(`reversal of ${command.entryId} was not stored`);
  await deps.journal.markReversed(entry.entryId, posted.entryId);
  await deps.events.publish(
    `journal:${posted.entryId}:reversed`,
    create(JournalEntryReversedSchema, { reversedEntryId: entry.entryId, reversingEntry: posted }),
  );
  return posted;
}

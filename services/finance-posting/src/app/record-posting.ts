import { createHash } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import {
  EntrySide,
  type JournalEntry,
  JournalEntrySchema,
  PeriodStatus,
} from "@retail/contracts/retail/finance/v1/finance_pb";
import { routingKeyOf } from "@retail/platform/store";
import { money } from "../domain/money.js";
import { nextPeriod, type PostedLine, type Posting, periodOf, postingLines } from "../domain/posting.js";
import type { FinanceDeps } from "./ports.js";

/** An entry's id follows from what it posts, so posting the same thing twice finds the first. */
export function entryIdOf(key: string): string {
  return `je-${createHash("sha256").update(key).digest("hex").slice(0, 24)}`;
}

/** The first period at or after a date's that takes postings, and whether that moved the posting. */
export async function targetPeriod(
  deps: FinanceDeps,
  postingDate: string,
): Promise<{ periodId: string; moved: boolean }> {
  let periodId = periodOf(postingDate);
  for (let hops = 0; hops < 240; hops++) {
    const period = await deps.periods.ensure(periodId);
    if (period.status === PeriodStatus.OPEN) return { periodId, moved: hops > 0 };
    periodId = nextPeriod(periodId);
  }
  throw new Error(`no open period after ${postingDate}`);
}

export interface EntryDraft {
  readonly key: string;
  readonly postingDate: string;
  readonly description: string;
  readonly currency: string;
  readonly lines: readonly PostedLine[];
  readonly source: {
    eventId: string;
    eventType: string;
    orderId: string;
    channel: string;
    storeId: string;
    settlementId: string;
  };
  readonly meta: {
    fact: string;
    orderId: string;
    provider: string;
    providerReference: string;
    amount: bigint;
  };
  readonly reverses?: string;
}

/** Posted lines as the journal lines of an entry (numbered from 1, amounts in the entry's currency). */
export function journalLines(currency: string, lines: readonly PostedLine[]) {
  return lines.map((l, i) => ({
    lineNumber: i + 1,
    accountCode: l.account,
    side: l.side === "debit" ? EntrySide.DEBIT : EntrySide.CREDIT,
    amount: money(currency, l.amount),
    sku: l.sku,
    taxCode: l.taxCode,
    paymentMethod: l.paymentMethod,
  }));
}

/**
 * Posts one balanced, immutable entry into the first open period at or after its date (flagged when
 * that is not its own), once: the id comes from the key, and a second post of it writes nothing.
 */
export async function postEntry(deps: FinanceDeps, draft: EntryDraft): Promise<JournalEntry | undefined> {
  const { periodId, moved } = await targetPeriod(deps, draft.postingDate);
  const entry = create(JournalEntrySchema, {
    entryId: entryIdOf(draft.key),
    periodId,
    postingDate: draft.postingDate,
    description: draft.description,
    source: {
      ...draft.source,
      routingKey: sourceRoutingKey(draft.source.eventType),
      channel: Channel[draft.source.channel as keyof typeof Channel] ?? Channel.UNSPECIFIED,
    },
    lines: journalLines(draft.currency, draft.lines),
    reversesEntryId: draft.reverses ?? "",
    ruleSetVersion: deps.rules.version,
    movedFromClosedPeriod: moved,
    createTime: timestampFromDate(deps.clock.now()),
  });
  const posted = await deps.journal.post(entry, draft.meta);
  return posted ? entry : undefined;
}

/** Sales facts of channels posted in summary wait in the store ledger for their day's summary. */
const summarised = new Set([
  "capture",
  "delivery",
  "shipping_delivered",
  "refund_of_delivered",
  "refund_of_undelivered",
]);

/** Records a posting under the rule set: in detail, or into its store's day for the daily summary. */
export async function recordPosting(deps: FinanceDeps, posting: Posting): Promise<boolean> {
  const lines = postingLines(posting, deps.rules);
  const amount =
    posting.kind === "delivery" ? posting.lines.reduce((s, l) => s + l.net + l.tax, 0n) : posting.amount;
  if (
    deps.rules.granularity[posting.channel] === "summary" &&
    posting.storeId &&
    summarised.has(posting.kind)
  ) {
    await deps.stores.add({
      key: posting.key,
      storeId: posting.storeId,
      postingDate: posting.postingDate,
      currency: posting.currency,
      orderId: posting.orderId,
      fact: posting.kind,
      amount,
      lines,
    });
    return true;
  }
  const posted = await postEntry(deps, {
    key: posting.key,
    postingDate: posting.postingDate,
    description: posting.description,
    currency: posting.currency,
    lines,
    source: {
      eventId: posting.eventId,
      eventType: posting.eventType,
      orderId: posting.orderId,
      channel: posting.channel,
      storeId: posting.storeId,
      settlementId: posting.settlementId,
    },
    meta: {
      fact: posting.kind,
      orderId: posting.orderId,
      provider: posting.provider,
      providerReference: posting.providerReference,
      amount,
    },
  });
  return posted !== undefined;
}

/**
 * The routing key of a posting's source event ("order.payment_captured") when a domain event caused it
 * (its type a protobuf name); empty for the ledger's own postings ("settlement", "payout", ...).
 */
export function sourceRoutingKey(eventType: string): string {
  return eventType.startsWith("retail.") ? routingKeyOf(eventType) : "";
}

import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  ReconciliationExceptionRaisedSchema,
  SettlementReconciledSchema,
} from "@retail/contracts/retail/finance/v1/finance_events_pb";
import {
  ReconciliationExceptionSchema,
  type ReconciliationItem,
  ReconciliationItemSchema,
  ReconciliationStatus,
  type Settlement,
  type SettlementLine,
  SettlementLineType,
  SettlementSchema,
} from "@retail/contracts/retail/finance/v1/finance_pb";
import { RuleViolated } from "../domain/errors.js";
import { money } from "../domain/money.js";
import { type PostingKind, providerKindOf } from "../domain/rules.js";
import type { FinanceDeps, StoredSettlement } from "./ports.js";
import { entryIdOf, recordPosting, targetPeriod } from "./record-posting.js";
import { resolveUnsettled } from "./unsettled-items.js";

const abs = (n: bigint) => (n < 0n ? -n : n);

/** Settlement lines reconciled at once: the service's database pool (8) kept busy, not queued behind. */
const linesInFlight = 8;

/** `work` over every item with at most `limit` in flight; the results in the items' order. */
async function mapConcurrently<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await work(items[i] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Line types matched against what the ledger posted under their provider reference. */
export const referencedLineTypes: ReadonlySet<SettlementLineType> = new Set([
  SettlementLineType.CAPTURE,
  SettlementLineType.REFUND,
  SettlementLineType.CHARGEBACK,
  SettlementLineType.CHARGEBACK_REVERSAL,
]);

/** The ledger facts a settled line answers for. */
const settledKinds: Partial<Record<SettlementLineType, readonly string[]>> = {
  [SettlementLineType.CAPTURE]: ["capture"],
  [SettlementLineType.REFUND]: ["refund_of_delivered", "refund_of_undelivered", "refund_unmatched"],
  [SettlementLineType.CHARGEBACK]: ["chargeback"],
  [SettlementLineType.CHARGEBACK_REVERSAL]: ["chargeback_reversal"],
};

/** Settlement lines that post themselves: fees, commissions, payouts, adjustments. */
const postedKinds: Partial<Record<SettlementLineType, PostingKind>> = {
  [SettlementLineType.FEE]: "settlement_fee",
  [SettlementLineType.COMMISSION]: "settlement_commission",
  [SettlementLineType.PAYOUT]: "settlement_payout",
  [SettlementLineType.ADJUSTMENT]: "settlement_adjustment",
};

/** A payout's posting key: the same from RecordPayout and from the settlement line that itemises it. */
const payoutKey = (provider: string, payoutId: string) => `payout:${provider}:${payoutId}`;

function settlementFact(s: Settlement, line: SettlementLine, kind: PostingKind, key: string, amount: bigint) {
  return {
    kind,
    key,
    eventId: `${s.settlementId}:${line.lineId}`,
    eventType: "settlement",
    orderId: line.orderId,
    channel: "",
    storeId: "",
    settlementId: s.settlementId,
    provider: s.provider,
    providerReference: line.providerReference,
    paymentMethod: "",
    currency: s.currencyCode,
    postingDate: s.payoutDate,
    description: `${kind.replaceAll("_", " ")} ${line.description || line.lineId} in settlement ${s.settlementId}`,
    amount,
    tax: 0n,
    lines: [],
  };
}

/**
 * Imports a settlement (once per settlement id) and reconciles it: captures, refunds and chargebacks
 * are matched by processor reference against what the ledger posted (matched, amount mismatch or
 * missing in ledger); fees, commissions, payouts and adjustments post at once. Every line that is not
 * matched becomes an exception with its reason.
 */
export async function importSettlement(deps: FinanceDeps, s: Settlement): Promise<StoredSettlement> {
  const earlier = await deps.settlements.get(s.settlementId);
  if (earlier) return earlier;
  if (providerKindOf(deps.rules, s.provider) === undefined) throw unknownProvider(deps, s.provider);
  const { periodId } = await targetPeriod(deps, s.payoutDate);
  const items = await reconcileLines(deps, s, s.lines);
  const payout = payoutItem(s, lineSumOf(s.lines));
  if (payout) items.push(payout);
  await raiseExceptions(deps, s, periodId, items);
  const stored = await deps.settlements.save({ settlement: s, items, periodId });
  const matched = items.filter((i) => i.status === ReconciliationStatus.MATCHED).length;
  await published(deps, s.settlementId, matched, items.length - matched);
  return stored;
}

/**
 * Imports one part of a settlement sent in parts (numbered from 1; the last says so): its lines are
 * reconciled as a whole settlement's are, and the part stored, once. The last part completes the
 * settlement once every part is in: the payout is checked against all parts' lines and the settlement
 * recorded as imported (until then a missing part is refused naming it, and the last part sent again
 * completes it). A part that came before answers with its items.
 */
export async function importSettlementPart(
  deps: FinanceDeps,
  s: Settlement,
  part: number,
  last: boolean,
): Promise<{ items: ReconciliationItem[]; complete: boolean }> {
  const earlier = await deps.settlements.get(s.settlementId);
  if (earlier) {
    const stored = earlier.parts ? await deps.settlements.part(s.settlementId, part) : undefined;
    return { items: [...(stored?.items ?? earlier.items)], complete: true };
  }
  if (providerKindOf(deps.rules, s.provider) === undefined) throw unknownProvider(deps, s.provider);
  const { periodId } = await targetPeriod(deps, s.payoutDate);
  let stored = await deps.settlements.part(s.settlementId, part);
  if (!stored) {
    const items = await reconcileLines(deps, s, s.lines);
    await raiseExceptions(deps, s, periodId, items);
    stored = await deps.settlements.savePart({
      settlementId: s.settlementId,
      part,
      lines: s.lines,
      items,
      lineSum: lineSumOf(s.lines),
      matched: items.filter((i) => i.status === ReconciliationStatus.MATCHED).length,
    });
  }
  if (!last) return { items: [...stored.items], complete: false };
  const received = await deps.settlements.partSummaries(s.settlementId);
  const missing = Array.from({ length: part }, (_, i) => i + 1).filter(
    (n) => !received.some((r) => r.part === n),
  );
  const beyond = received.filter((r) => r.part > part).map((r) => r.part);
  if (missing.length > 0 || beyond.length > 0)
    throw new RuleViolated(
      "SETTLEMENT_PARTS_MISSING",
      missing.length > 0
        ? `settlement ${s.settlementId} has ${part} parts but part ${missing.join(", ")} has not come: send it, then the last part again`
        : `settlement ${s.settlementId} has part ${beyond.join(", ")} beyond its last part ${part}`,
      { settlement_id: s.settlementId, missing_parts: missing.join(","), parts_beyond: beyond.join(",") },
    );
  const payout = payoutItem(
    s,
    received.reduce((sum, r) => sum + r.lineSum, 0n),
  );
  const items = payout ? [payout] : [];
  await raiseExceptions(deps, s, periodId, items);
  await deps.settlements.save({
    settlement: create(SettlementSchema, { ...s, lines: [] }),
    items,
    periodId,
    parts: part,
  });
  const matched = received.reduce((sum, r) => sum + r.matched, 0);
  const total = received.reduce((sum, r) => sum + r.items, 0) + items.length;
  await published(deps, s.settlementId, matched, total - matched);
  return { items: [...stored.items, ...items], complete: true };
}

/** SettlementReconciled, once a settlement is in. */
async function published(deps: FinanceDeps, settlementId: string, matched: number, exceptions: number) {
  await deps.events.publish(
    `settlement:${settlementId}`,
    create(SettlementReconciledSchema, { settlementId, matchedLines: matched, exceptionLines: exceptions }),
  );
}

/** What lines add to the payout: their signed amounts less the fees withheld on them. */
function lineSumOf(lines: readonly SettlementLine[]): bigint {
  return lines.reduce(
    (sum, l) =>
      sum +
      (l.type === SettlementLineType.PAYOUT
        ? 0n
        : (l.amount?.minorUnits ?? 0n) - abs(l.fee?.minorUnits ?? 0n)),
    0n,
  );
}

/** The payout's item when the payout is not the sum of the lines. */
function payoutItem(s: Settlement, lineSum: bigint): ReconciliationItem | undefined {
  const payout = s.payoutAmount?.minorUnits;
  if (payout === undefined || payout === lineSum) return undefined;
  return create(ReconciliationItemSchema, {
    settlementLineId: "payout",
    status: ReconciliationStatus.AMOUNT_MISMATCH,
    expected: money(s.currencyCode, lineSum),
    actual: money(s.currencyCode, payout),
    reason: `the payout ${payout} is not the sum of the settlement's lines ${lineSum}`,
  });
}

/** Every item that did not match becomes an exception with its reason (once: its id is the line's). */
async function raiseExceptions(
  deps: FinanceDeps,
  s: Settlement,
  periodId: string,
  items: ReconciliationItem[],
) {
  for (const item of items.filter((i) => i.status !== ReconciliationStatus.MATCHED)) {
    const raised = await deps.exceptions.raise(
      create(ReconciliationExceptionSchema, {
        exceptionId: `ex-${s.settlementId}-${item.settlementLineId}`,
        settlementId: s.settlementId,
        item,
        periodId,
        createTime: timestampFromDate(deps.clock.now()),
      }),
    );
    item.exceptionId = raised.exceptionId;
    await deps.events.publish(
      `exception:${raised.exceptionId}`,
      create(ReconciliationExceptionRaisedSchema, {
        settlementId: s.settlementId,
        item,
        exceptionId: raised.exceptionId,
      }),
    );
  }
}

/**
 * Reconciles lines of a settlement: captures, refunds, chargebacks and their reversals matched by
 * reference against the ledger; fees, commissions, payouts and adjustments posted (a payout naming one
 * the bank got matched against it).
 */
function reconcileLines(
  deps: FinanceDeps,
  s: Settlement,
  lines: readonly SettlementLine[],
): Promise<ReconciliationItem[]> {
  // Lines are reconciled side by side (each against its own reference and keys); the items keep the
  // file's order. One after another, a marketplace's day of lines outlasted a caller's timeout.
  return mapConcurrently(lines, linesInFlight, async (line) => {
    const item = create(ReconciliationItemSchema, {
      settlementLineId: line.lineId,
      providerReference: line.providerReference,
      actual: money(s.currencyCode, abs(line.amount?.minorUnits ?? 0n)),
    });
    const kinds = settledKinds[line.type];
    const posts = postedKinds[line.type];
    if (kinds) {
      const entries = (await deps.journal.byReference(line.providerReference)).filter(
        (e) => kinds.includes(e.fact) && !e.reversedBy,
      );
      const expected = entries.reduce((sum, e) => sum + e.amount, 0n);
      item.expected = money(s.currencyCode, expected);
      if (entries.length === 0) {
        item.status = ReconciliationStatus.MISSING_IN_LEDGER;
        item.reason = `no ${SettlementLineType[line.type].toLowerCase()} with reference ${line.providerReference} in the ledger`;
      } else {
        const agrees = expected === abs(line.amount?.minorUnits ?? 0n);
        item.status = agrees ? ReconciliationStatus.MATCHED : ReconciliationStatus.AMOUNT_MISMATCH;
        if (!agrees)
          item.reason = `ledger ${expected}, settlement ${abs(line.amount?.minorUnits ?? 0n)} (${s.currencyCode} minor units)`;
        // Either way the entries are in this settlement: a mismatch is its own exception, not also
        // money missing in every settlement (one problem, one exception).
        item.journalEntryId = entries[0]?.entry.entryId ?? "";
        const entryIds = entries.map((e) => e.entry.entryId);
        await deps.journal.markSettled(entryIds, s.settlementId);
        await resolveUnsettled(deps, entryIds, s.settlementId);
      }
    } else if (line.type === SettlementLineType.PAYOUT && line.providerReference) {
      // The payout the bank got may be posted already (RecordPayout): the line matches it, or posts it.
      const size = abs(line.amount?.minorUnits ?? 0n);
      const key = payoutKey(s.provider, line.providerReference);
      const earlier = (await deps.journal.byReference(line.providerReference)).find(
        (e) => e.fact === "settlement_payout" && !e.reversedBy,
      );
      if (!earlier) await recordPosting(deps, settlementFact(s, line, "settlement_payout", key, size));
      const expected = earlier?.amount ?? size;
      item.expected = money(s.currencyCode, expected);
      item.status = expected === size ? ReconciliationStatus.MATCHED : ReconciliationStatus.AMOUNT_MISMATCH;
      if (expected !== size)
        item.reason = `the bank got ${expected}, the settlement pays out ${size} (${s.currencyCode} minor units)`;
      item.journalEntryId = earlier?.entry.entryId ?? entryIdOf(key);
      await deps.journal.markSettled([item.journalEntryId], s.settlementId);
    } else if (posts) {
      const key = `${s.settlementId}:${line.lineId}:${posts}`;
      // Adjustments keep their sign (money in or out); the other kinds post their size.
      const amount =
        posts === "settlement_adjustment"
          ? (line.amount?.minorUnits ?? 0n)
          : abs(line.amount?.minorUnits ?? 0n);
      await recordPosting(deps, settlementFact(s, line, posts, key, amount));
      item.status = ReconciliationStatus.MATCHED;
      item.expected = item.actual;
      item.journalEntryId = entryIdOf(key);
    }
    const fee = abs(line.fee?.minorUnits ?? 0n);
    if (fee > 0n)
      await recordPosting(
        deps,
        settlementFact(s, line, "settlement_fee", `${s.settlementId}:${line.lineId}:fee`, fee),
      );
    return item;
  });
}

/**
 * Posts a payout that reached the bank, once per provider and payout id (Dr bank, Cr the provider's
 * receivable, per the rules); whether this call posted it.
 */
export async function recordPayout(
  deps: FinanceDeps,
  payout: {
    provider: string;
    payoutId: string;
    currency: string;
    amount: bigint;
    arrivalDate: string;
    description: string;
  },
): Promise<{ journalEntryId: string; posted: boolean }> {
  if (providerKindOf(deps.rules, payout.provider) === undefined) throw unknownProvider(deps, payout.provider);
  const key = payoutKey(payout.provider, payout.payoutId);
  const posted = await recordPosting(deps, {
    kind: "settlement_payout",
    key,
    eventId: `payout:${payout.payoutId}`,
    eventType: "payout",
    orderId: "",
    channel: "",
    storeId: "",
    settlementId: "",
    provider: payout.provider,
    providerReference: payout.payoutId,
    paymentMethod: "",
    currency: payout.currency,
    postingDate: payout.arrivalDate,
    description: `payout ${payout.payoutId} from ${payout.provider} reached the bank${payout.description ? ` (${payout.description})` : ""}`,
    amount: payout.amount,
    tax: 0n,
    lines: [],
  });
  return { journalEntryId: entryIdOf(key), posted };
}

function unknownProvider(deps: FinanceDeps, provider: string) {
  return new RuleViolated(
    "SETTLEMENT_PROVIDER_UNKNOWN",
    `settlement provider "${provider}" is not in posting rule set ${deps.rules.version} (known: ${Object.keys(deps.rules.providers).sort().join(", ")}): add it with its kind before importing`,
    { provider, rule_set: deps.rules.version },
  );
}

/**
 * A settlement's reconciliation as it stands: its items, plus what the ledger holds for the same
 * provider up to the payout date and no settlement has covered yet (missing in settlement: captures
 * not paid out, refunds issued but not settled). The rate counts the settlement's own lines.
 */
export async function reconciliation(deps: FinanceDeps, stored: StoredSettlement) {
  const { settlement } = stored;
  const unsettled = await deps.journal.unsettled(settlement.provider, settlement.payoutDate);
  const missing = unsettled.map((e) =>
    create(ReconciliationItemSchema, {
      providerReference: e.providerReference,
      status: ReconciliationStatus.MISSING_IN_SETTLEMENT,
      expected: money(settlement.currencyCode, e.amount),
      reason: `${e.fact.replaceAll("_", " ")} ${e.orderId ? `of order ${e.orderId}` : e.providerReference} posted, not in any settlement yet`,
      journalEntryId: e.entry.entryId,
    }),
  );
  return { items: [...stored.items, ...missing], rateBps: rateBps(transactionItems([stored])) };
}

/**
 * The items of settlements' transaction lines (captures, refunds, chargebacks, each with the fee
 * withheld on it): what a reconciliation rate counts. Fee, commission, payout and adjustment lines post
 * themselves and always "match", and the payout total is a check of its own: counting them would
 * flatter the rate.
 */
export function transactionItems(settlements: readonly StoredSettlement[]): ReconciliationItem[] {
  return settlements.flatMap(({ settlement, items }) => {
    const transactions = new Set(
      settlement.lines.filter((l) => settledKinds[l.type] !== undefined).map((l) => l.lineId),
    );
    return items.filter((i) => transactions.has(i.settlementLineId));
  });
}

/** Matched share of items in basis points (10,000 when there is nothing to match). */
export function rateBps(items: readonly ReconciliationItem[]): number {
  const matched = items.filter((i) => i.status === ReconciliationStatus.MATCHED).length;
  return items.length === 0 ? 10_000 : Math.floor((matched * 10_000) / items.length);
}

const ageBands: ReadonlyArray<{ band: string; upToDays: number }> = [
  { band: "0-7 days", upToDays: 7 },
  { band: "8-30 days", upToDays: 30 },
  { band: "over 30 days", upToDays: Number.POSITIVE_INFINITY },
];

/**
 * A period's reconciliation for finance: how much of its settlements matched, its open exceptions by
 * age, and the refunds it posted that no settlement has covered yet.
 */
export async function reconciliationReport(deps: FinanceDeps, periodId: string) {
  const settlements = await deps.settlements.inPeriod(periodId);
  const items = transactionItems(settlements);
  const matched = items.filter((i) => i.status === ReconciliationStatus.MATCHED).length;
  const now = deps.clock.now().getTime();
  const open = await deps.exceptions.openHeldBy(periodId);
  const ages = open.map(
    (e) => (now - (e.createTime ? Number(e.createTime.seconds) * 1000 : now)) / 86_400_000,
  );
  const unsettled = (await deps.journal.forPeriod(periodId)).filter(
    (e) => e.fact.startsWith("refund_") && e.providerReference && !e.reversedBy && !e.settledBy,
  );
  const totals = new Map<string, bigint>();
  for (const r of unsettled) {
    const currency = r.entry.lines[0]?.amount?.currencyCode ?? "";
    totals.set(currency, (totals.get(currency) ?? 0n) + r.amount);
  }
  return {
    periodId,
    settlements: settlements.length,
    settlementLines: items.length,
    matchedLines: matched,
    reconciliationRateBps: rateBps(items),
    openExceptions: ageBands.map((b, i) => ({
      band: b.band,
      count: ages.filter((a) => a <= b.upToDays && (i === 0 || a > (ageBands[i - 1]?.upToDays ?? 0))).length,
    })),
    unsettledRefunds: unsettled.length,
    unsettledRefundTotals: [...totals.entries()].map(([c, v]) => money(c, v)),
  };
}

import { create } from "@bufbuild/protobuf";
import { PeriodClosedSchema } from "@retail/contracts/retail/finance/v1/finance_events_pb";
import {
  type AccountingPeriod,
  EntrySide,
  PeriodStatus,
  type TrialBalance,
  TrialBalanceSchema,
} from "@retail/contracts/retail/finance/v1/finance_pb";
import { NotFound, RuleViolated } from "../domain/errors.js";
import { money } from "../domain/money.js";
import { nextPeriod, summarise } from "../domain/posting.js";
import type { FinanceDeps, StoredEntry, StoreLine } from "./ports.js";
import { postEntry } from "./record-posting.js";

/** Totals per account and currency of a set of entries: the rows of a trial balance. */
export function totals(
  entries: readonly StoredEntry[],
): Map<string, { account: string; currency: string; debit: bigint; credit: bigint }> {
  const rows = new Map<string, { account: string; currency: string; debit: bigint; credit: bigint }>();
  for (const { entry } of entries) {
    for (const line of entry.lines) {
      const currency = line.amount?.currencyCode ?? "";
      const key = `${line.accountCode}|${currency}`;
      const row = rows.get(key) ?? { account: line.accountCode, currency, debit: 0n, credit: 0n };
      if (line.side === EntrySide.DEBIT) row.debit += line.amount?.minorUnits ?? 0n;
      else row.credit += line.amount?.minorUnits ?? 0n;
      rows.set(key, row);
    }
  }
  return rows;
}

/** The trial balance of a period: debit and credit totals per account and currency. */
export async function trialBalance(deps: FinanceDeps, periodId: string): Promise<TrialBalance> {
  const rows = [...totals(await deps.journal.forPeriod(periodId)).values()].sort(
    (a, b) => a.account.localeCompare(b.account) || a.currency.localeCompare(b.currency),
  );
  return create(TrialBalanceSchema, {
    periodId,
    rows: rows.map((r) => ({
      accountCode: r.account,
      debitTotal: money(r.currency, r.debit),
      creditTotal: money(r.currency, r.credit),
    })),
  });
}

/**
 * Posts each store's day of POS-style lines as one summary entry per store, day and currency, for
 * days before `before` (every day when undefined). The lines a summary covers are recorded before it
 * is posted, so a run interrupted and run again posts the same summary once; lines that arrive after
 * their day's summary get a summary of their own.
 */
export function postStoreSummaries(deps: FinanceDeps, before: string | undefined): Promise<number> {
  return deps.lock("store-summaries", async () => {
    const groups = new Map<
      string,
      Array<Pick<StoreLine, "key" | "lines" | "storeId" | "postingDate" | "currency">>
    >();
    const fresh = new Map<string, { summaryKey: string; keys: string[] }>();
    for (const line of await deps.stores.pending(before)) {
      let summaryKey = line.summaryKey;
      if (!summaryKey) {
        const group = `${line.storeId}|${line.postingDate}|${line.currency}`;
        const assigned = fresh.get(group) ?? {
          summaryKey: `summary:${line.storeId}:${line.postingDate}:${line.currency}:${line.key}`,
          keys: [],
        };
        assigned.keys.push(line.key);
        fresh.set(group, assigned);
        summaryKey = assigned.summaryKey;
      }
      groups.set(summaryKey, [...(groups.get(summaryKey) ?? []), line]);
    }
    for (const { summaryKey, keys } of fresh.values()) await deps.stores.assign(keys, summaryKey);
    for (const [summaryKey, members] of groups) {
      const { storeId = "", postingDate = "", currency = "" } = members[0] ?? {};
      await postEntry(deps, {
        key: summaryKey,
        postingDate,
        description: `store ${storeId} sales summary for ${postingDate} (${members.length} postings)`,
        currency,
        lines: summarise(members.flatMap((m) => m.lines)),
        source: {
          eventId: summaryKey,
          eventType: "store_summary",
          orderId: "",
          channel: "POS",
          storeId,
          settlementId: "",
        },
        meta: { fact: "store_summary", orderId: "", provider: "", providerReference: "", amount: 0n },
      });
      await deps.stores.markPosted(members.map((m) => m.key));
    }
    return groups.size;
  });
}

/**
 * Closes a period: store summaries are posted first, then nothing more posts into it (later postings
 * for its dates go to the next open period, flagged). It refuses while reconciliation exceptions of
 * the period are open, unless they are carried forward explicitly. Returns the closing trial balance,
 * whose debits equal its credits in every currency.
 */
export async function closePeriod(
  deps: FinanceDeps,
  command: { periodId: string; carryForward: boolean },
): Promise<{ period: AccountingPeriod; trialBalance: TrialBalance }> {
  const period = await deps.periods.get(command.periodId);
  if (!period) throw new NotFound("period", command.periodId);
  if (period.status === PeriodStatus.CLOSED)
    return { period, trialBalance: await trialBalance(deps, period.periodId) };
  const open = await deps.exceptions.openInPeriod(period.periodId);
  if (open.length > 0 && !command.carryForward) {
    throw new RuleViolated(
      "UNRECONCILED_ITEMS",
      `period ${period.periodId} has ${open.length} open reconciliation exceptions: resolve them or carry them forward`,
      {
        open_exceptions: String(open.length),
      },
    );
  }
  await deps.periods.setStatus(period.periodId, PeriodStatus.CLOSING);
  const dayAfter = nextPeriod(period.periodId);
  await postStoreSummaries(deps, `${dayAfter}-01`);
  const next = await deps.periods.ensure(dayAfter);
  for (const exception of open)
    await deps.exceptions.save({ ...exception, carriedToPeriodId: next.periodId });
  const balance = await trialBalance(deps, period.periodId);
  const sums = new Map<string, bigint>();
  for (const row of balance.rows) {
    const currency = row.debitTotal?.currencyCode ?? "";
    sums.set(
      currency,
      (sums.get(currency) ?? 0n) + (row.debitTotal?.minorUnits ?? 0n) - (row.creditTotal?.minorUnits ?? 0n),
    );
  }
  const off = [...sums.entries()].filter(([, sum]) => sum !== 0n);
  if (off.length > 0) {
    await deps.periods.setStatus(period.periodId, PeriodStatus.OPEN);
    throw new RuleViolated(
      "TRIAL_BALANCE_OFF",
      `trial balance of ${period.periodId} does not sum to zero in ${off.map(([c, s]) => `${c} (${s})`).join(", ")}`,
    );
  }
  const closed = await deps.periods.setStatus(period.periodId, PeriodStatus.CLOSED);
  await deps.events.publish(`period:${closed.periodId}`, create(PeriodClosedSchema, { period: closed }));
  return { period: closed, trialBalance: balance };
}

/** Debits minus credits of an account per currency, for a period or for every period. */
export async function accountBalance(deps: FinanceDeps, account: string, periodId: string) {
  const periods = periodId ? [periodId] : (await deps.periods.list()).map((p) => p.periodId);
  const sums = new Map<string, bigint>();
  for (const id of periods) {
    for (const row of totals(await deps.journal.forPeriod(id)).values()) {
      if (row.account === account)
        sums.set(row.currency, (sums.get(row.currency) ?? 0n) + row.debit - row.credit);
    }
  }
  return [...sums.entries()].map(([currency, amount]) => money(currency, amount));
}

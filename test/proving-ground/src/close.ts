// The end of the day: finance closes the period (posting the stores' POS summaries, checking the trial
// balance), as an accountant would after the last orders. Only on a mesh started for the day: closing
// the month of a mesh someone works on would be a surprise.
import type { Rest } from "./rest.js";

export interface PeriodClose {
  readonly periodId: string;
  /** How long ClosePeriod took. */
  readonly ms: number;
  readonly status: string;
  /** Debits equal credits in every currency of the trial balance it returned. */
  readonly trialBalanced: boolean;
  readonly accounts: number;
}

type Row = {
  debitTotal?: { currencyCode?: string; minorUnits?: string };
  creditTotal?: { currencyCode?: string; minorUnits?: string };
};

export async function closePeriod(rest: Rest, run: string, now = new Date()): Promise<PeriodClose> {
  const periodId = now.toISOString().slice(0, 7);
  const started = Date.now();
  // Open reconciliation exceptions (planted settlement mismatches) go to the next period, named.
  const closed = await rest.ok(
    "POST",
    `/v1/periods/${periodId}:close`,
    { carryForwardExceptions: true },
    `close-${run}-${periodId}`,
  );
  const ms = Date.now() - started;
  const rows = ((closed.trialBalance as { rows?: Row[] } | undefined)?.rows ?? []) as Row[];
  const net = new Map<string, bigint>();
  for (const row of rows) {
    const currency = row.debitTotal?.currencyCode || row.creditTotal?.currencyCode || "";
    const delta = BigInt(row.debitTotal?.minorUnits ?? "0") - BigInt(row.creditTotal?.minorUnits ?? "0");
    net.set(currency, (net.get(currency) ?? 0n) + delta);
  }
  return {
    periodId,
    ms,
    status: String((closed.period as { status?: string } | undefined)?.status ?? ""),
    trialBalanced: rows.length > 0 && [...net.values()].every((v) => v === 0n),
    accounts: rows.length,
  };
}

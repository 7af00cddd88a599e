// The marketplace's settlement for the day, as Amazon sends it (flat file V1): every marketplace
// capture and refund of the day with its commission, and two planted mismatches a reconciliation must
// find: one order settled for a dollar more than was captured, and one order the ledger never saw.
// Everything else must match; the close then carries the two exceptions into the next period.
import type { Outcome } from "./drive.js";
import { RefusedCall, type Rest } from "./rest.js";

const columns = [
  "settlement-id",
  "settlement-start-date",
  "settlement-end-date",
  "deposit-date",
  "total-amount",
  "currency",
  "transaction-type",
  "order-id",
  "merchant-order-id",
  "adjustment-id",
  "posted-date",
  "price-type",
  "price-amount",
  "order-fee-type",
  "order-fee-amount",
];

export interface SettlementCheck {
  readonly settlementId: string;
  readonly lines: number;
  /** Lines the reconciliation did not match, by status, and whether they are exactly the planted ones. */
  readonly unmatched: Record<string, number>;
  readonly plantedFound: boolean;
  /** What was unmatched: status, reference and reason (the first 10). */
  readonly unmatchedItems: string[];
  readonly rateBps: number;
  /** Why the import was refused, when it was (the day is judged all the same: a finding, not a crash). */
  readonly refused?: string;
}

const decimal = (minor: number) => (minor / 100).toFixed(2);

export async function settleMarketplace(
  rest: Rest,
  run: string,
  outcomes: readonly Outcome[],
): Promise<SettlementCheck> {
  const sold = outcomes.filter((o) => o.journey.channel === "marketplace" && o.captureIds.length > 0);
  const settlementId = String(7_000_000_000 + (Number.parseInt(run.slice(-5), 36) % 1_000_000_000));
  const day = new Date().toISOString();
  const row = (cells: Record<string, string>) => columns.map((c) => cells[c] ?? "").join("\t");
  const rows: string[] = [];
  let total = 0;
  const order = (reference: string, amount: number) => {
    const commission = -Math.round(amount * 0.15);
    total += amount + commission;
    const base = {
      "settlement-id": settlementId,
      "transaction-type": "Order",
      "order-id": reference,
      "posted-date": day,
    };
    rows.push(row({ ...base, "price-type": "Principal", "price-amount": decimal(amount) }));
    rows.push(row({ ...base, "order-fee-type": "Commission", "order-fee-amount": decimal(commission) }));
  };
  sold.forEach((o, i) => {
    // The first sold order is planted: settled a dollar over what was captured.
    order(o.captureIds[0] ?? "", o.captured + (i === 0 ? 100 : 0));
    for (const id of o.refundsSent.keys()) {
      const refunded = o.refundAmounts.get(id) ?? 0;
      total -= refunded;
      rows.push(
        row({
          "settlement-id": settlementId,
          "transaction-type": "Refund",
          "order-id": id,
          "adjustment-id": id,
          "posted-date": day,
          "price-type": "Principal",
          "price-amount": decimal(-refunded),
        }),
      );
    }
  });
  order(`unknown-${run}`, 2_500); // planted: an order the ledger never saw
  const summary = row({
    "settlement-id": settlementId,
    "settlement-start-date": day,
    "settlement-end-date": day,
    "deposit-date": day,
    "total-amount": decimal(total),
    currency: "USD",
  });
  const file = [columns.join("\t"), summary, ...rows].join("\n");
  const id = `amazon-${settlementId}`;
  try {
    await rest.upload(
      "/imports/amazon/settlement-report",
      file,
      "text/tab-separated-values",
      `settlement-${run}`,
    );
  } catch (error) {
    if (!(error instanceof RefusedCall)) throw error;
    const { status, body, attempts } = error.answer;
    const refused = `HTTP ${status} after ${attempts} attempts: ${JSON.stringify(body)}`;
    return {
      settlementId: id,
      lines: rows.length,
      unmatched: {},
      plantedFound: false,
      rateBps: 0,
      unmatchedItems: [],
      refused,
    };
  }
  const reconciliation = await rest.ok("GET", `/v1/settlements/${id}/reconciliation`);
  const items = (reconciliation.items ?? []) as Array<{
    status: string;
    providerReference: string;
    reason?: string;
  }>;
  const unmatched: Record<string, number> = {};
  for (const item of items)
    if (item.status !== "RECONCILIATION_STATUS_MATCHED")
      unmatched[item.status] = (unmatched[item.status] ?? 0) + 1;
  const planted = new Set([...(sold[0] ? [sold[0].captureIds[0]] : []), `unknown-${run}`]);
  const off = items.filter((item) => item.status !== "RECONCILIATION_STATUS_MATCHED");
  return {
    settlementId: id,
    lines: items.length,
    unmatched,
    plantedFound: off.length === planted.size && off.every((item) => planted.has(item.providerReference)),
    rateBps: Number(reconciliation.reconciliationRateBps ?? 0),
    unmatchedItems: off
      .slice(0, 10)
      .map((item) => `${item.status} ${item.providerReference}: ${item.reason ?? ""}`),
  };
}

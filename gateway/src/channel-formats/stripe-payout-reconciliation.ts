// Stripe's itemised payout reconciliation report (report type payout_reconciliation.itemized.5, CSV
// with a header row; amounts are decimals in major units, currencies lower case) as one canonical
// Settlement per automatic payout: its settlement id is the payout id (po_…), its date the payout's
// automatic_payout_effective_at, and each balance transaction a line keyed by its id (txn_…):
//   charge, payment                     -> CAPTURE of charge_id (else source_id), gross, fee withheld
//   refund, payment_refund              -> REFUND of charge_id, gross (negative)
//   dispute                             -> CHARGEBACK of charge_id, gross (negative), the dispute fee
//   dispute_reversal                    -> CHARGEBACK_REVERSAL of charge_id, gross
//   fee, network_cost, tax              -> FEE, net (Stripe's own charges and the tax on them)
//   other_adjustment, refund_failure, partial_capture_reversal, payout_reversal, risk_reserved_funds,
//   climate_order_purchase, climate_order_refund -> ADJUSTMENT, net (signed)
// A fee Stripe gave back (negative) is an ADJUSTMENT line of its own. The payout closes the settlement
// as its PAYOUT line naming the payout id (finance matches it against what payout.paid posted) of the
// sum of every row's net, also of rows left out, so a row that could not be taken shows as the payout
// not adding up. Refunds and disputes name the payment by charge_id: add that column to the report
// (it is optional in Stripe's column list); the other columns are the report's defaults.
// https://docs.stripe.com/reports/report-types/payout-reconciliation,
// https://docs.stripe.com/reports/reporting-categories
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  type Settlement,
  type SettlementLineSchema,
  SettlementLineType,
  SettlementSchema,
} from "@retail/contracts/retail/finance/v1/finance_pb";
import { AmountInvalid, decimalToMinorUnits } from "@retail/platform/money";
import { type FieldViolation, RequestInvalid } from "@retail/platform/rpc";

const required = [
  "automatic_payout_id",
  "automatic_payout_effective_at",
  "balance_transaction_id",
  "currency",
  "gross",
  "fee",
  "net",
  "reporting_category",
];

type Mapping = { type: SettlementLineType; amount: "gross" | "net"; reference: boolean };
const byCategory: Readonly<Record<string, Mapping>> = {
  charge: { type: SettlementLineType.CAPTURE, amount: "gross", reference: true },
  payment: { type: SettlementLineType.CAPTURE, amount: "gross", reference: true },
  refund: { type: SettlementLineType.REFUND, amount: "gross", reference: true },
  payment_refund: { type: SettlementLineType.REFUND, amount: "gross", reference: true },
  dispute: { type: SettlementLineType.CHARGEBACK, amount: "gross", reference: true },
  dispute_reversal: { type: SettlementLineType.CHARGEBACK_REVERSAL, amount: "gross", reference: true },
  ...Object.fromEntries(
    ["fee", "network_cost", "tax"].map((c) => [
      c,
      { type: SettlementLineType.FEE, amount: "net", reference: false },
    ]),
  ),
  ...Object.fromEntries(
    [
      "other_adjustment",
      "refund_failure",
      "partial_capture_reversal",
      "payout_reversal",
      "risk_reserved_funds",
      "climate_order_purchase",
      "climate_order_refund",
    ].map((c) => [c, { type: SettlementLineType.ADJUSTMENT, amount: "net", reference: false }]),
  ),
};

interface Payout {
  currency: string;
  date: string;
  net: bigint;
  lines: Array<MessageInitShape<typeof SettlementLineSchema>>;
}

/** The settlements of a report as read, and the rows left out with why (naming row and column). */
export interface PayoutReportRead {
  readonly settlements: readonly Settlement[];
  readonly rejected: readonly FieldViolation[];
}

/**
 * Reads the report a row at a time (cells as the CSV parser gives them, `row` the file's line, header
 * = 1): only each payout's lines are kept. A header without the columns refuses the file; a row that
 * cannot be read is left out and named, and the others are kept.
 */
export function createStripePayoutReader() {
  let position: Map<string, number> | undefined;
  const fatal: FieldViolation[] = [];
  const rejected: FieldViolation[] = [];
  const payouts = new Map<string, Payout>();
  const seen = new Set<string>();
  return {
    push(cells: readonly string[], row: number): void {
      if (!position) {
        const header = cells.map((h) => h.trim());
        for (const name of required.filter((n) => !header.includes(n)))
          fatal.push({
            field: name,
            description: "column is missing: expected Stripe's itemised payout reconciliation report",
          });
        position = new Map(header.map((name, i) => [name, i]));
        return;
      }
      if (fatal.length > 0 || cells.every((c) => c.trim() === "")) return;
      const problems: FieldViolation[] = [];
      const problem = (column: string, description: string) =>
        problems.push({ field: `row ${row}: ${column}`, description });
      const column = (name: string) => (cells[position?.get(name) ?? -1] ?? "").trim();
      const currency = column("currency").toUpperCase();
      if (!/^[A-Z]{3}$/.test(currency)) problem("currency", "must be an ISO 4217 code");
      const amount = (name: string): bigint => {
        try {
          return decimalToMinorUnits(column(name) || "0", currency || "USD");
        } catch (error) {
          problem(name, error instanceof AmountInvalid ? error.message : "is not an amount");
          return 0n;
        }
      };
      const [gross, fee, net] = [amount("gross"), amount("fee"), amount("net")];
      if (problems.length === 0 && gross - fee !== net)
        problem("net", `is not gross less fee (${column("gross")} - ${column("fee")})`);
      const payoutId = column("automatic_payout_id");
      const date = column("automatic_payout_effective_at").slice(0, 10);
      if (!payoutId) problem("automatic_payout_id", "is required: the report reconciles automatic payouts");
      if (!/^\d{4}-\d{2}-\d{2}$/.test(date))
        problem("automatic_payout_effective_at", "must be a date and time such as 2026-11-20 00:00:00");
      const payout = payouts.get(payoutId) ?? { currency, date, net: 0n, lines: [] };
      if (payoutId && payout.currency !== currency)
        problem("currency", `is not payout ${payoutId}'s currency ${payout.currency}`);
      // The payout is what every row of it added, also a row left out: the sum shows it missing.
      if (payoutId && problems.length === 0) payout.net += net;
      const lineId = column("balance_transaction_id");
      if (!lineId) problem("balance_transaction_id", "is required");
      else if (seen.has(lineId)) problem("balance_transaction_id", `repeats ${lineId}`);
      seen.add(lineId);
      const category = column("reporting_category");
      const mapping = byCategory[category];
      if (!mapping) problem("reporting_category", `"${category}" is not a category the mesh reconciles`);
      const reference =
        column("charge_id") || (mapping?.type === SettlementLineType.CAPTURE ? column("source_id") : "");
      if (mapping?.reference && !reference)
        problem("charge_id", `is required for ${category} rows: add the column to the report`);
      if (payoutId) payouts.set(payoutId, payout);
      if (problems.length > 0 || !mapping) {
        rejected.push(...problems);
        return;
      }
      const money = (minorUnits: bigint) => ({ currencyCode: currency, minorUnits });
      const description = column("description") || category;
      // A fee withheld goes beside its line; one given back is money in of its own.
      const withheld = mapping.amount === "gross" && fee > 0n ? fee : 0n;
      payout.lines.push({
        lineId,
        type: mapping.type,
        providerReference: mapping.reference ? reference : "",
        amount: money(mapping.amount === "gross" ? gross : net),
        ...(withheld > 0n && { fee: money(withheld) }),
        description,
      });
      if (mapping.amount === "gross" && fee < 0n)
        payout.lines.push({
          lineId: `${lineId}:fee-returned`,
          type: SettlementLineType.ADJUSTMENT,
          providerReference: "",
          amount: money(-fee),
          description: `fee returned on ${lineId}`,
        });
    },
    /** The settlements read; throws RequestInvalid when the report cannot be taken at all. */
    finish(): PayoutReportRead {
      if (!position)
        fatal.push({ field: "(body)", description: "is empty: expected a CSV report with a header row" });
      if (fatal.length > 0) throw new RequestInvalid(fatal);
      const settlements = [...payouts]
        .filter(([, p]) => p.lines.length > 0)
        .map(([payoutId, p]) =>
          create(SettlementSchema, {
            settlementId: payoutId,
            provider: "stripe",
            currencyCode: p.currency,
            payoutDate: p.date,
            payoutAmount: { currencyCode: p.currency, minorUnits: p.net },
            lines: [
              ...p.lines,
              {
                lineId: "payout",
                type: SettlementLineType.PAYOUT,
                providerReference: payoutId,
                amount: { currencyCode: p.currency, minorUnits: -p.net },
                description: `payout ${payoutId}`,
              },
            ],
          }),
        );
      if (settlements.length === 0 && rejected.length > 0) throw new RequestInvalid(rejected);
      return { settlements, rejected };
    },
  };
}

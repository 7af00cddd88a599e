// Amazon's settlement report, flat file V1 (_GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_: tab-separated,
// a header row, one summary row with the deposit, then one row per amount component), as the canonical
// Settlement finance reconciles. Components are summed per transaction: an Order becomes a CAPTURE line
// (price and promotion amounts; Amazon's fees, negative in the file, as its fee), a Refund a REFUND
// line, anything else (storage, subscription, reserve) an ADJUSTMENT; the deposit closes the settlement
// as its PAYOUT line. The Amazon order id is the provider reference the ledger's marketplace captures
// carry. Amounts are converted by string arithmetic, never through a float.
import { create } from "@bufbuild/protobuf";
import {
  type Settlement,
  SettlementLineType,
  SettlementSchema,
} from "@retail/contracts/retail/finance/v1/finance_pb";
import { AmountInvalid, decimalToMinorUnits } from "@retail/platform/money";
import { type FieldViolation, RequestInvalid } from "@retail/platform/rpc";

const required = [
  "settlement-id",
  "deposit-date",
  "total-amount",
  "currency",
  "transaction-type",
  "order-id",
  "adjustment-id",
];
const priceColumns = ["price-amount", "promotion-amount", "direct-payment-amount", "other-amount"];
const feeColumns = [
  "shipment-fee-amount",
  "order-fee-amount",
  "item-related-fee-amount",
  "misc-fee-amount",
  "other-fee-amount",
];

/** Parses a V1 flat file; violations name the row (1-based, header = 1) and column. */
export function amazonSettlementToCanonical(text: string): Settlement {
  const rows = text
    .replace(/\r\n/g, "\n")
    .split("\n")
    .filter((line) => line.trim() !== "");
  const header = (rows[0] ?? "").split("\t").map((h) => h.trim());
  const missing = required.filter((name) => !header.includes(name));
  if (missing.length > 0)
    throw new RequestInvalid(
      missing.map((name) => ({
        field: name,
        description: "column is missing: expected a settlement flat file V1",
      })),
    );
  const position = new Map(header.map((name, i) => [name, i]));
  const column = (cells: string[], name: string) => (cells[position.get(name) ?? -1] ?? "").trim();
  const violations: FieldViolation[] = [];
  const summary = (rows[1] ?? "").split("\t");
  const currency = column(summary, "currency");
  const amount = (cells: string[], name: string, row: number): bigint => {
    const value = column(cells, name);
    if (value === "") return 0n;
    try {
      return decimalToMinorUnits(value, currency || "USD");
    } catch (error) {
      violations.push({
        field: `row ${row}: ${name}`,
        description: error instanceof AmountInvalid ? error.message : "is not an amount",
      });
      return 0n;
    }
  };
  if (!/^[A-Z]{3}$/.test(currency))
    violations.push({ field: "row 2: currency", description: "must be an ISO 4217 code" });
  const deposit = amount(summary, "total-amount", 2);
  const payoutDate = column(summary, "deposit-date").slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(payoutDate))
    violations.push({ field: "row 2: deposit-date", description: "must be an ISO 8601 date" });

  const transactions = new Map<
    string,
    { type: SettlementLineType; reference: string; amount: bigint; fee: bigint; description: string }
  >();
  rows.slice(2).forEach((line, i) => {
    const cells = line.split("\t");
    const row = i + 3;
    const kind = column(cells, "transaction-type");
    const orderId = column(cells, "order-id");
    const type =
      kind === "Order"
        ? SettlementLineType.CAPTURE
        : kind === "Refund"
          ? SettlementLineType.REFUND
          : SettlementLineType.ADJUSTMENT;
    if (type !== SettlementLineType.ADJUSTMENT && !orderId)
      violations.push({ field: `row ${row}: order-id`, description: `is required for ${kind}` });
    const key = `${kind}|${orderId}|${column(cells, "adjustment-id")}`;
    const entry = transactions.get(key) ?? {
      type,
      reference: orderId,
      amount: 0n,
      fee: 0n,
      description: kind,
    };
    for (const name of priceColumns) entry.amount += amount(cells, name, row);
    for (const name of feeColumns) entry.fee -= amount(cells, name, row);
    transactions.set(key, entry);
  });
  if (violations.length > 0) throw new RequestInvalid(violations);
  const money = (minorUnits: bigint) => ({ currencyCode: currency, minorUnits });
  const lines = [...transactions.values()].map((t, i) => ({
    lineId: String(i + 1),
    type: t.type,
    providerReference: t.reference,
    // Fees stay beside captures and refunds; an adjustment is its net amount.
    amount: money(t.type === SettlementLineType.ADJUSTMENT ? t.amount - t.fee : t.amount),
    ...(t.type !== SettlementLineType.ADJUSTMENT && t.fee !== 0n ? { fee: money(t.fee) } : {}),
    description: t.description,
  }));
  lines.push({
    lineId: String(lines.length + 1),
    type: SettlementLineType.PAYOUT,
    providerReference: "",
    amount: money(-deposit),
    description: "deposit",
  });
  return create(SettlementSchema, {
    settlementId: `amazon-${column(summary, "settlement-id")}`,
    provider: "amazon",
    currencyCode: currency,
    payoutDate,
    payoutAmount: money(deposit),
    lines,
  });
}

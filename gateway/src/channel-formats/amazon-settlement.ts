// Amazon's settlement report, flat file V1 (_GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_: tab-separated,
// a header row, one summary row with the deposit, then one row per amount component in its own column:
// price-amount, item-related-fee-amount …) or flat file V2 (_GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2_:
// the same rows with every component in one `amount` column, named by `amount-type`: ItemPrice and
// Promotion are price, ItemFees, ShipmentFees, OrderFees and ItemWithheldTax are fees, anything else
// counts as price; dates as "2015-12-18 03:27:08 UTC"), as the canonical Settlement finance reconciles. Components are summed per transaction: an Order becomes a CAPTURE line
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
/** What a V2 file has instead of V1's amount columns. */
const v2Columns = ["amount-type", "amount"];
/** V2 amount types that are Amazon's fees (negative in the file, as V1's fee columns). */
const v2FeeTypes = new Set(["ItemFees", "ShipmentFees", "OrderFees", "ItemWithheldTax"]);

/** A report's date ("2015-12-18T03:27:08+00:00", "2015-12-18 03:27:08 UTC", "18.12.2015 03:27:08 UTC") as ISO. */
function reportDate(value: string): string {
  const european = /^(\d{2})\.(\d{2})\.(\d{4})/.exec(value);
  return european ? `${european[3]}-${european[2]}-${european[1]}` : value.slice(0, 10);
}
const priceColumns = ["price-amount", "promotion-amount", "direct-payment-amount", "other-amount"];
const feeColumns = [
  "shipment-fee-amount",
  "order-fee-amount",
  "item-related-fee-amount",
  "misc-fee-amount",
  "other-fee-amount",
];

/** A settlement as read, and the rows left out with why (each a violation naming its row and column). */
export interface SettlementRead {
  readonly settlement: Settlement;
  readonly rejected: readonly FieldViolation[];
}

interface Transaction {
  type: SettlementLineType;
  reference: string;
  amount: bigint;
  fee: bigint;
  description: string;
  rows: number[];
}

/**
 * Reads a V1 flat file line by line (a file of any size streams through it: only the transactions'
 * sums are kept). Rows are numbered as lines of the file (header = 1). A header without the columns,
 * or a summary row (2) that cannot be read, refuses the whole file; a transaction row that cannot be
 * read is left out with its row and column named, together with the rest of its transaction (its sum
 * would be wrong), and every other transaction is kept: finance then finds the deposit not matching
 * the lines, an exception to work, instead of a file it cannot take at all.
 */
export function createAmazonSettlementReader() {
  let row = 0;
  let headerRead = false;
  let v2 = false;
  let position = new Map<string, number>();
  let currency = "";
  let deposit = 0n;
  let payoutDate = "";
  let settlementId = "";
  const fatal: FieldViolation[] = [];
  const rejected: FieldViolation[] = [];
  const transactions = new Map<string, Transaction>();
  const broken = new Set<string>();
  const column = (cells: string[], name: string) => (cells[position.get(name) ?? -1] ?? "").trim();
  const amount = (cells: string[], name: string, into: FieldViolation[]): bigint => {
    const value = column(cells, name);
    if (value === "") return 0n;
    try {
      return decimalToMinorUnits(value, currency || "USD");
    } catch (error) {
      into.push({
        field: `row ${row}: ${name}`,
        description: error instanceof AmountInvalid ? error.message : "is not an amount",
      });
      return 0n;
    }
  };
  return {
    /** One line of the file, without its line ending. */
    push(line: string): void {
      row++;
      if (line.trim() === "") return;
      const cells = line.replace(/\r$/, "").split("\t");
      if (!headerRead) {
        headerRead = true;
        const header = cells.map((h) => h.trim());
        v2 = v2Columns.every((name) => header.includes(name));
        const missing = required.filter((n) => !header.includes(n));
        if (!v2 && !priceColumns.some((n) => header.includes(n))) missing.push(...v2Columns);
        for (const name of missing)
          fatal.push({
            field: name,
            description: "column is missing: expected a settlement flat file V1 or V2",
          });
        position = new Map(header.map((name, i) => [name, i]));
        return;
      }
      if (fatal.length > 0) return;
      if (!settlementId) {
        currency = column(cells, "currency");
        if (!/^[A-Z]{3}$/.test(currency))
          fatal.push({ field: `row ${row}: currency`, description: "must be an ISO 4217 code" });
        deposit = amount(cells, "total-amount", fatal);
        payoutDate = reportDate(column(cells, "deposit-date"));
        if (!/^\d{4}-\d{2}-\d{2}$/.test(payoutDate))
          fatal.push({ field: `row ${row}: deposit-date`, description: "must be an ISO 8601 date" });
        settlementId = column(cells, "settlement-id") || "(none)";
        return;
      }
      const kind = column(cells, "transaction-type");
      const orderId = column(cells, "order-id");
      const type =
        kind === "Order"
          ? SettlementLineType.CAPTURE
          : kind === "Refund"
            ? SettlementLineType.REFUND
            : SettlementLineType.ADJUSTMENT;
      const key = `${kind}|${orderId}|${column(cells, "adjustment-id")}`;
      const problems: FieldViolation[] = [];
      if (type !== SettlementLineType.ADJUSTMENT && !orderId)
        problems.push({ field: `row ${row}: order-id`, description: `is required for ${kind}` });
      const entry = transactions.get(key) ?? {
        type,
        reference: orderId,
        amount: 0n,
        fee: 0n,
        description: kind,
        rows: [],
      };
      if (v2) {
        const value = amount(cells, "amount", problems);
        if (v2FeeTypes.has(column(cells, "amount-type"))) entry.fee -= value;
        else entry.amount += value;
      } else {
        for (const name of priceColumns) entry.amount += amount(cells, name, problems);
        for (const name of feeColumns) entry.fee -= amount(cells, name, problems);
      }
      entry.rows.push(row);
      transactions.set(key, entry);
      if (problems.length > 0) {
        rejected.push(...problems);
        broken.add(key);
      }
    },
    /** The settlement of the rows read; throws RequestInvalid when the file cannot be taken at all. */
    finish(): SettlementRead {
      if (!headerRead)
        fatal.push({ field: "(body)", description: "is empty: expected a settlement flat file V1 or V2" });
      else if (!settlementId && fatal.length === 0)
        fatal.push({ field: "row 2", description: "is required: the summary row with the deposit" });
      if (fatal.length > 0) throw new RequestInvalid(fatal);
      const kept = [...transactions].filter(([key]) => !broken.has(key)).map(([, t]) => t);
      // The rows of a left-out transaction that were readable themselves are named too.
      for (const [key, t] of transactions)
        if (broken.has(key))
          for (const r of t.rows)
            if (!rejected.some((v) => v.field.startsWith(`row ${r}:`)))
              rejected.push({ field: `row ${r}`, description: "left out with the rest of its transaction" });
      if (kept.length === 0 && rejected.length > 0) throw new RequestInvalid(rejected);
      const money = (minorUnits: bigint) => ({ currencyCode: currency, minorUnits });
      const lines = kept.map((t, i) => ({
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
      const settlement = create(SettlementSchema, {
        settlementId: `amazon-${settlementId}`,
        provider: "amazon",
        currencyCode: currency,
        payoutDate,
        payoutAmount: money(deposit),
        lines,
      });
      return { settlement, rejected: rejected.sort((a, b) => rowOf(a) - rowOf(b)) };
    },
  };
}

const rowOf = (v: FieldViolation) => Number(/^row (\d+)/.exec(v.field)?.[1] ?? 0);

/** A whole flat file's text (V1 or V2), read as the reader reads it line by line. */
export function amazonSettlementToCanonical(text: string): SettlementRead {
  const reader = createAmazonSettlementReader();
  for (const line of text.split("\n")) reader.push(line);
  return reader.finish();
}

import { readFileSync } from "node:fs";
import { SettlementLineType } from "@retail/contracts/retail/finance/v1/finance_pb";
import { refusals } from "@retail/platform/testing";
import { parse } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import { createStripePayoutReader } from "./stripe-payout-reconciliation.js";

const report = readFileSync(
  new URL("../../test/fixtures/stripe/payout-reconciliation.itemized.constructed.csv", import.meta.url),
  "utf8",
);

/** The report read as the gateway reads it: CSV records with the line each ends on. */
function read(text: string) {
  const reader = createStripePayoutReader();
  const records = parse(text, {
    bom: true,
    relax_column_count: true,
    skip_empty_lines: true,
    info: true,
  }) as unknown as Array<{
    record: string[];
    info: { lines: number };
  }>;
  for (const { record, info } of records) reader.push(record, info.lines);
  return reader.finish();
}

const linesOf = (text: string) =>
  read(text).settlements.map((s) => [
    s.settlementId,
    s.payoutDate,
    s.payoutAmount?.minorUnits,
    s.lines.map((l) => [
      l.lineId,
      SettlementLineType[l.type],
      l.providerReference,
      l.amount?.minorUnits,
      l.fee?.minorUnits ?? 0n,
    ]),
  ]);

describe("Stripe's itemised payout reconciliation report", () => {
  it("reads one settlement per payout, each balance transaction a line of its kind and the payout closing it", () => {
    expect(linesOf(report)).toEqual([
      [
        "po_1TESTPAYOUT0001",
        "2026-11-20",
        480n,
        [
          ["txn_1TEST0001", "CAPTURE", "ch_1TESTCHARGE0A", 10_000n, 320n],
          ["txn_1TEST0002", "REFUND", "ch_1TESTCHARGE0A", -2_500n, 0n],
          ["txn_1TEST0003", "CHARGEBACK", "ch_1TESTCHARGE0D", -5_000n, 1_500n],
          ["txn_1TEST0004", "FEE", "", -200n, 0n],
          ["payout", "PAYOUT", "po_1TESTPAYOUT0001", -480n, 0n],
        ],
      ],
      [
        "po_1TESTPAYOUT0002",
        "2026-11-21",
        3_854n,
        [
          ["txn_1TEST0005", "CAPTURE", "ch_1TESTCHARGE0E", 4_000n, 146n],
          ["payout", "PAYOUT", "po_1TESTPAYOUT0002", -3_854n, 0n],
        ],
      ],
    ]);
    expect(read(report).settlements[0]?.lines[1]?.description).toBe('Refund of "damaged" item');
  });

  it("keeps a fee given back as money in of its own", () => {
    const reversal = `${report}po_1TESTPAYOUT0002,2026-11-21 00:00:00,txn_1TEST0006,,,usd,50.00,-15.00,65.00,dispute_reversal,dp_1,ch_1TESTCHARGE0D,Dispute won\n`;
    const [, second] = linesOf(reversal);
    expect(second?.[3]).toEqual([
      ["txn_1TEST0005", "CAPTURE", "ch_1TESTCHARGE0E", 4_000n, 146n],
      ["txn_1TEST0006", "CHARGEBACK_REVERSAL", "ch_1TESTCHARGE0D", 5_000n, 0n],
      ["txn_1TEST0006:fee-returned", "ADJUSTMENT", "", 1_500n, 0n],
      ["payout", "PAYOUT", "po_1TESTPAYOUT0002", -10_354n, 0n],
    ]);
  });

  it("leaves out the rows it cannot read, naming row and column, and still counts them in the payout", () => {
    const rows = report.trimEnd().split("\n");
    const broken = [
      ...rows,
      // 7: an amount that is not one; 8: a category the mesh does not reconcile; 9: a refund with no
      // charge; 10: net that is not gross less fee; 11: a repeated balance transaction.
      "po_1TESTPAYOUT0002,2026-11-21 00:00:00,txn_1TEST0007,,,usd,12.3.4,0.00,1.00,charge,ch_X,ch_X,x",
      "po_1TESTPAYOUT0002,2026-11-21 00:00:00,txn_1TEST0008,,,usd,-7.00,0.00,-7.00,transfer,tr_1,,x",
      "po_1TESTPAYOUT0002,2026-11-21 00:00:00,txn_1TEST0009,,,usd,-1.00,0.00,-1.00,refund,re_1,,x",
      "po_1TESTPAYOUT0002,2026-11-21 00:00:00,txn_1TEST0010,,,usd,10.00,0.30,9.00,charge,ch_Y,ch_Y,x",
      "po_1TESTPAYOUT0002,2026-11-21 00:00:00,txn_1TEST0005,,,usd,1.00,0.00,1.00,other_adjustment,,,x",
    ].join("\n");
    const { settlements, rejected } = read(broken);
    expect(rejected.map((v) => `${v.field}: ${v.description}`)).toEqual([
      'row 7: gross: "12.3.4" is not a decimal amount',
      'row 8: reporting_category: "transfer" is not a category the mesh reconciles',
      "row 9: charge_id: is required for refund rows: add the column to the report",
      "row 10: net: is not gross less fee (10.00 - 0.30)",
      "row 11: balance_transaction_id: repeats txn_1TEST0005",
    ]);
    // The payout is every readable row's net: the left-out ones show as the lines not adding up.
    expect(settlements[1]?.payoutAmount?.minorUnits).toBe(3_854n - 700n - 100n + 100n);
    expect(settlements[1]?.lines.map((l) => l.lineId)).toEqual(["txn_1TEST0005", "payout"]);
  });

  it("refuses a file that is not the report", () => {
    expect(refusals(() => read("id,amount\n1,2\n"))).toEqual(
      expect.arrayContaining([
        "automatic_payout_id: column is missing: expected Stripe's itemised payout reconciliation report",
      ]),
    );
    expect(refusals(() => read(""))).toEqual(["(body): is empty: expected a CSV report with a header row"]);
  });
});

import { readFileSync } from "node:fs";
import { SettlementLineType } from "@retail/contracts/retail/finance/v1/finance_pb";
import { RequestInvalid } from "@retail/platform/rpc";
import { describe, expect, it } from "vitest";
import { amazonSettlementToCanonical } from "./amazon-settlement.js";

const report = readFileSync(
  new URL("../../test/fixtures/amazon/settlement-flatfile-v1.mws-rs.tsv", import.meta.url),
  "utf8",
);
const header = report.split("\n")[0] ?? "";
const columns = header.split("\t");
/** A data row of the report with the named cells set. */
const row = (cells: Record<string, string>) => columns.map((c) => cells[c] ?? "").join("\t");
const lines = ({ settlement }: ReturnType<typeof amazonSettlementToCanonical>) =>
  settlement.lines.map((l) => [
    SettlementLineType[l.type],
    l.providerReference,
    l.amount?.minorUnits,
    l.fee?.minorUnits ?? 0n,
  ]);

describe("Amazon settlement flat file V1", () => {
  it("sums an order's components into one capture with its fees, and closes with the deposit", () => {
    const read = amazonSettlementToCanonical(report);
    expect(read.rejected).toEqual([]);
    expect(read.settlement).toMatchObject({
      settlementId: "amazon-6016502941",
      provider: "amazon",
      currencyCode: "USD",
      payoutDate: "2015-12-18",
      payoutAmount: { currencyCode: "USD", minorUnits: 1_663_013n },
    });
    expect(lines(read)).toEqual([
      ["CAPTURE", "112-8095165-5463447", 2_799n, 100n],
      ["PAYOUT", "", -1_663_013n, 0n],
    ]);
  });

  it("makes refunds and other transactions their own lines", () => {
    const base = { "settlement-id": "1" };
    const text = [
      header,
      row({ ...base, "deposit-date": "2026-11-20T00:00:00+00:00", "total-amount": "10.50", currency: "USD" }),
      row({
        ...base,
        "transaction-type": "Order",
        "order-id": "A-1",
        "price-type": "Principal",
        "price-amount": "20.00",
      }),
      row({
        ...base,
        "transaction-type": "Order",
        "order-id": "A-1",
        "item-related-fee-type": "Commission",
        "item-related-fee-amount": "-3.00",
      }),
      row({
        ...base,
        "transaction-type": "Refund",
        "order-id": "A-2",
        "adjustment-id": "adj-9",
        "price-amount": "-5.00",
        "item-related-fee-amount": "0.50",
      }),
      row({ ...base, "transaction-type": "Storage Fee", "other-amount": "-2.00" }),
    ].join("\r\n");
    expect(lines(amazonSettlementToCanonical(text))).toEqual([
      ["CAPTURE", "A-1", 2_000n, 300n],
      ["REFUND", "A-2", -500n, -50n],
      ["ADJUSTMENT", "", -200n, 0n],
      ["PAYOUT", "", -1_050n, 0n],
    ]);
  });

  it("names the rows and columns it cannot read", () => {
    const violations = (text: string) => {
      try {
        amazonSettlementToCanonical(text);
      } catch (error) {
        if (error instanceof RequestInvalid) return error.violations.map((v) => v.field);
      }
      return [];
    };
    expect(violations("settlement-id\tamount-type\tamount\n1\tItemPrice\t1.00")).toContain("total-amount");
    const bad = [
      header,
      row({ "total-amount": "1.00", currency: "USD", "deposit-date": "2026-11-20" }),
      row({ "transaction-type": "Order", "price-amount": "1.001" }),
    ];
    expect(violations(bad.join("\n"))).toEqual(["row 3: order-id", "row 3: price-amount"]);
  });

  it("leaves out a transaction with a row it cannot read, naming its rows, and keeps the others", () => {
    const text = [
      header,
      row({ "settlement-id": "7", "total-amount": "30.00", currency: "USD", "deposit-date": "2026-11-20" }),
      row({ "transaction-type": "Order", "order-id": "A-1", "price-amount": "20.00" }),
      row({ "transaction-type": "Order", "order-id": "B-2", "price-amount": "5.00" }),
      "",
      row({ "transaction-type": "Order", "order-id": "B-2", "shipment-fee-amount": "-0.5x" }),
      row({ "transaction-type": "Order", "order-id": "C-3", "price-amount": "10.00" }),
    ].join("\n");
    const read = amazonSettlementToCanonical(text);
    expect(lines(read)).toEqual([
      ["CAPTURE", "A-1", 2_000n, 0n],
      ["CAPTURE", "C-3", 1_000n, 0n],
      ["PAYOUT", "", -3_000n, 0n],
    ]);
    // Rows are the file's lines, the blank one counted.
    expect(read.rejected.map((v) => v.field)).toEqual(["row 4", "row 6: shipment-fee-amount"]);
  });
});

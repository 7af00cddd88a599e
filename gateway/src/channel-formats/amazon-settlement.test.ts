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

describe("Amazon settlement flat file V2", () => {
  const v2 = readFileSync(
    new URL("../../test/fixtures/amazon/settlement-flatfile-v2.constructed.tsv", import.meta.url),
    "utf8",
  );
  const v2Columns = (v2.split("\n")[0] ?? "").split("\t");
  const v2Row = (cells: Record<string, string>) => v2Columns.map((c) => cells[c] ?? "").join("\t");

  it("reads the V1 sample's settlement written as V2 into the very same settlement", () => {
    const fromV2 = amazonSettlementToCanonical(v2);
    expect(fromV2.rejected).toEqual([]);
    expect(fromV2.settlement).toEqual(amazonSettlementToCanonical(report).settlement);
  });

  it("takes fee amount types as fees and any other as price, and names an amount it cannot read", () => {
    const refund = {
      "settlement-id": "6016502941",
      "transaction-type": "Refund",
      "order-id": "112-1",
      "adjustment-id": "a-1",
    };
    const text = [
      v2.trimEnd(),
      v2Row({ ...refund, "amount-type": "ItemPrice", "amount-description": "Principal", amount: "-10.00" }),
      v2Row({ ...refund, "amount-type": "ItemFees", "amount-description": "Commission", amount: "1.50" }),
      v2Row({
        ...refund,
        "amount-type": "ItemWithheldTax",
        "amount-description": "MarketplaceFacilitatorTax-Principal",
        amount: "0.80",
      }),
      v2Row({
        "settlement-id": "6016502941",
        "transaction-type": "Subscription Fee",
        "amount-type": "other-transaction",
        amount: "-39.99",
      }),
      v2Row({
        "settlement-id": "6016502941",
        "transaction-type": "Order",
        "order-id": "112-2",
        "amount-type": "ItemPrice",
        amount: "ten",
      }),
    ].join("\n");
    const read = amazonSettlementToCanonical(text);
    expect(lines(read)).toEqual([
      ["CAPTURE", "112-8095165-5463447", 2_799n, 100n],
      ["REFUND", "112-1", -1_000n, -230n],
      ["ADJUSTMENT", "", -3_999n, 0n],
      ["PAYOUT", "", -1_663_013n, 0n],
    ]);
    expect(read.rejected).toEqual([{ field: "row 9: amount", description: '"ten" is not a decimal amount' }]);
  });

  it("refuses a file that is neither V1 nor V2, naming what is missing", () => {
    const other = [
      "settlement-id\tdeposit-date\ttotal-amount\tcurrency\ttransaction-type\torder-id\tadjustment-id",
    ].join("\n");
    expect(() => amazonSettlementToCanonical(other)).toThrow(RequestInvalid);
    try {
      amazonSettlementToCanonical(other);
    } catch (error) {
      expect((error as RequestInvalid).violations.map((v) => v.field)).toEqual(["amount-type", "amount"]);
    }
  });
});

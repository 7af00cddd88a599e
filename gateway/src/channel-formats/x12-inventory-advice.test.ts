import { readFileSync } from "node:fs";
import { refusals as violations } from "@retail/platform/testing";
import { describe, expect, it } from "vitest";
import { inventoryAdviceToCounts } from "./x12-inventory-advice.js";
import { parseInterchange } from "./x12-purchase-order.js";

const edi = readFileSync(new URL("../../test/fixtures/x12/846.constructed.edi", import.meta.url), "utf8");
const warehouse = { skuQualifier: "VP" };
const advice = (text: string) => {
  const [tx] = parseInterchange(text).transactions;
  return () => inventoryAdviceToCounts(tx as NonNullable<typeof tx>, warehouse);
};

describe("X12 846 inventory advice", () => {
  it("reads each item's quantity on hand as its count, at the advice's date and time", () => {
    const { senderId, transactions } = parseInterchange(edi);
    expect([senderId, transactions[0]?.type]).toEqual(["WMS0000001", "846"]);
    expect(advice(edi)()).toEqual({
      reference: "INV20261127",
      countTime: new Date("2026-11-27T02:00:00Z"),
      items: [
        { sku: "AB3542", onHand: 940n },
        { sku: "RD5322", onHand: 0n },
      ],
    });
  });

  it("refuses an advice it cannot apply whole, naming the segment", () => {
    expect(
      violations(advice(edi.replace("QTY*17*940*EA", "QTY*17*940*CA").replace("CTT*2", "CTT*3"))),
    ).toEqual([
      "ST 0001 QTY (segment 7) QTY03: unit CA is not supported: count in eaches (EA)",
      "ST 0001 LIN (segment 5): has no quantity on hand (QTY*17) for AB3542",
      "ST 0001 CTT01: says 3 items but the advice has 2",
    ]);
    expect(violations(advice(edi.replace("QTY*17*0*EA", "QTY*17*-4*EA")))).toEqual([
      "ST 0001 QTY (segment 11) QTY02: must be a whole quantity, zero or more",
      "ST 0001 LIN (segment 9): has no quantity on hand (QTY*17) for RD5322",
    ]);
    expect(violations(advice(edi.replace("LIN*2*VP*RD5322", "LIN*2*VP*AB3542")))).toEqual([
      "ST 0001 LIN (segment 9): repeats SKU AB3542: one count per SKU",
    ]);
    expect(
      violations(advice(edi.replace("BIA*00*SI*INV20261127*20261127*0200", "BIA*00*SI**20261340*2561"))),
    ).toEqual([
      "ST 0001 BIA03: the advice's reference is required",
      "ST 0001 BIA04: must be the advice's date as CCYYMMDD",
      "ST 0001 BIA05: must be a time as HHMM or HHMMSS",
    ]);
    expect(violations(advice(edi.replace("LIN*1*VP*AB3542", "LIN*1*UP*AB3542")))).toEqual([
      "ST 0001 LIN (segment 5): has no VP product id (our SKU)",
    ]);
  });
});

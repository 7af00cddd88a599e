import { readFileSync } from "node:fs";
import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import { RequestInvalid } from "@retail/platform/rpc";
import { describe, expect, it } from "vitest";
import { parseInterchange, purchaseOrderToSubmit } from "./x12-purchase-order.js";

const edi = readFileSync(new URL("../../test/fixtures/x12/850.node-x12.edi", import.meta.url), "utf8");
const partner = {
  senderId: "4405197800",
  channelId: "b2b",
  sourceSystem: "b2b-portal",
  skuQualifier: "VN",
  currency: "USD",
  taxCode: "exempt",
};

function violations(text: string): string[] {
  try {
    const { transactions } = parseInterchange(text);
    for (const tx of transactions) purchaseOrderToSubmit(tx, partner);
  } catch (error) {
    if (error instanceof RequestInvalid) return error.violations.map((v) => `${v.field}: ${v.description}`);
    throw error;
  }
  return [];
}

describe("X12 850 purchase orders", () => {
  it("maps a VICS 850 to SubmitOrder with the vendor item numbers as SKUs and exact prices", () => {
    const { senderId, transactions } = parseInterchange(edi);
    expect(senderId).toBe("4405197800");
    expect(transactions.map((t) => [t.type, t.control])).toEqual([["850", "000000010"]]);
    const [tx] = transactions;
    if (!tx) throw new Error("no transaction");
    const { poNumber, request } = purchaseOrderToSubmit(tx, partner);
    expect(poNumber).toBe("08292233294");
    expect(request).toMatchObject({
      channel: Channel.B2B,
      channelId: "b2b",
      channelOrderId: "08292233294",
      currencyCode: "USD",
      customer: { sourceSystem: "b2b-portal", sourceId: "4405197800", familyName: "XYZ RETAIL" },
      shipTo: {
        recipient: "XYZ RETAIL",
        lines: ["31875 SOLON RD"],
        locality: "SOLON",
        administrativeArea: "OH",
        postalCode: "44139",
        regionCode: "US",
      },
    });
    expect(request.placeTime?.seconds).toBe(BigInt(Date.parse("2010-11-27T00:00:00Z") / 1000));
    expect(
      request.lines.map((l) => [l.lineId, l.sku, l.quantity, l.unitPrice?.minorUnits, l.taxCode]),
    ).toEqual([
      ["1", "AB3542", 120n, 925n, "exempt"],
      ["2", "RD5322", 220n, 1_379n, "exempt"],
      ["3", "XY5266", 126n, 1_099n, "exempt"],
      ["4", "VX2332", 76n, 435n, "exempt"],
      ["5", "RV0524", 72n, 750n, "exempt"],
      ["6", "DX1875", 696n, 955n, "exempt"],
    ]);
  });

  it("refuses a file whose control totals disagree with its lines, naming the segment", () => {
    expect(violations(edi.replace("AMT*1*13045.94", "AMT*1*13045.95"))).toEqual([
      "ST 000000010 AMT02: says 13045.95 but the lines add up to 1304594 minor units",
    ]);
    expect(violations(edi.replace("CTT*6", "CTT*7"))).toEqual([
      "ST 000000010 CTT01: says 7 lines but the order has 6",
    ]);
    expect(violations(edi.replace("PO1*2*220*EA*13.79", "PO1*2*220*CA*13.79"))).toEqual([
      "ST 000000010 PO1 #2 (segment 16) PO103: unit CA is not supported: order in eaches (EA)",
    ]);
    expect(violations("not edi at all")[0]).toMatch(/^\(body\): is not an X12 interchange/);
  });
});

import { readFileSync } from "node:fs";
import { refusals as violations } from "@retail/platform/testing";
import { describe, expect, it } from "vitest";
import { parseInterchange } from "./x12-purchase-order.js";
import { shipmentLines, shipNoticeToShipments } from "./x12-ship-notice.js";

const edi = readFileSync(new URL("../../test/fixtures/x12/856.node-x12.edi", import.meta.url), "utf8");
const warehouse = { skuQualifier: "VP" };

describe("X12 856 ship notices", () => {
  it("reads each order of the notice as a shipment of its items, with carrier, tracking and date", () => {
    const { senderId, transactions } = parseInterchange(edi);
    expect(senderId).toBe("4405197800");
    const [notice] = transactions;
    expect(notice?.type).toBe("856");
    expect(shipNoticeToShipments(notice as NonNullable<typeof notice>, warehouse)).toEqual([
      {
        poNumber: "99999817",
        shipmentId: "829716",
        carrier: "XXXX",
        trackingNumber: "5787970539",
        shipDate: "2011-12-06",
        items: [
          { sku: "87787D", quantity: 24n },
          { sku: "99887D", quantity: 6n },
        ],
      },
    ]);
  });

  it("refuses a notice it cannot apply whole, naming the segment", () => {
    const notice = (text: string) => {
      const [tx] = parseInterchange(text).transactions;
      return () => shipNoticeToShipments(tx as NonNullable<typeof tx>, warehouse);
    };
    expect(violations(notice(edi.replace("SN1*2*6*EA", "SN1*2*6*CA").replace("CTT*4", "CTT*5")))).toEqual([
      "ST 0008 SN1 (segment 27) SN103: unit CA is not supported: ship in eaches (EA)",
      "ST 0008 CTT01: says 5 HL levels but the notice has 4",
    ]);
    expect(violations(notice(edi.replace("PRF*99999817", "PRF*")))).toEqual([
      "ST 0008 HL 2 PRF01: the purchase order number is required",
    ]);
  });

  it("spreads a SKU's units over the order's open lines of that SKU, and refuses units beyond them", () => {
    const lines = [
      { lineId: "1", sku: "A", open: 2n },
      { lineId: "2", sku: "B", open: 5n },
      { lineId: "3", sku: "A", open: 4n },
    ];
    expect(shipmentLines([{ sku: "A", quantity: 5n }], lines, "PO 1")).toEqual([
      { lineId: "1", quantity: 2n },
      { lineId: "3", quantity: 3n },
    ]);
    expect(violations(() => shipmentLines([{ sku: "B", quantity: 6n }], lines, "PO 1"))).toEqual([
      "PO 1: ships 6 of B, 1 more than the order has open",
    ]);
  });
});

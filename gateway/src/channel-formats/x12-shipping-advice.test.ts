import { readFileSync } from "node:fs";
import { refusals as violations } from "@retail/platform/testing";
import { describe, expect, it } from "vitest";
import { parseInterchange } from "./x12-purchase-order.js";
import { shippingAdviceToShipment } from "./x12-shipping-advice.js";

const edi = readFileSync(new URL("../../test/fixtures/x12/945.constructed.edi", import.meta.url), "utf8");
const advice = (text: string, skuQualifier = "VP") => {
  const [tx] = parseInterchange(text).transactions;
  return () => shippingAdviceToShipment(tx as NonNullable<typeof tx>, { skuQualifier });
};

describe("X12 945 warehouse shipping advice", () => {
  it("reads the order our 940 named, the shipment, its carrier, tracking and date, and the units each line shipped", () => {
    expect(parseInterchange(edi).transactions[0]?.type).toBe("945");
    expect(advice(edi)()).toEqual({
      orderId: "ORD-EXAMPLE",
      poNumber: "PO-EXAMPLE",
      shipmentId: "SHP-20261127-01",
      carrier: "UPSN",
      trackingNumber: "1Z999AA10123456784",
      shipDate: "2026-11-27",
      // The short-shipped line (W1203 zero) ships nothing.
      items: [{ sku: "AB3542", quantity: 120n }],
    });
    // Without N9*CN the bill of lading is the reference; without G62*11 the W06 date.
    const plain = edi.replace("N9*CN*1Z999AA10123456784~\n", "").replace("G62*11*20261127~\n", "");
    expect(advice(plain.replace("SE*16", "SE*14"))()).toMatchObject({
      trackingNumber: "BOL778812",
      shipDate: "2026-11-27",
    });
    // The warehouse's own qualifier is read first.
    expect(advice(edi.replace("EA**VN*AB3542", "EA**VN*AB3542*****UP*X*VP*OURS"), "VP")().items).toEqual([
      { sku: "AB3542", quantity: 120n },
    ]);
  });

  it("refuses an advice it cannot apply whole, naming the segment", () => {
    expect(
      violations(advice(edi.replace("W06*F*ORD-EXAMPLE*20261127*SHP-20261127-01", "W06*F**20261127*"))),
    ).toEqual([
      "ST 0001 W0602: the depositor order number (our order id) is required",
      "ST 0001 W0604: the shipment id is required",
    ]);
    expect(violations(advice(edi.replace("W03*120", "W03*119")))).toEqual([
      "ST 0001 W0301: says 119 units but the lines ship 120",
    ]);
    expect(violations(advice(edi.replace("W12*CC*120*120*0*EA", "W12*CC*120*120*0*CA")))).toEqual([
      "ST 0001 W12 (segment 10) W1205: unit CA is not supported: ship in eaches (EA)",
      "ST 0001 W0301: says 120 units but the lines ship 0",
    ]);
    expect(violations(advice(edi.replace("EA**VN*AB3542", "EA**UP*AB3542")))).toEqual([
      "ST 0001 W12 (segment 10): has no VP or VN product id (our SKU)",
      "ST 0001 W0301: says 120 units but the lines ship 0",
    ]);
  });
});

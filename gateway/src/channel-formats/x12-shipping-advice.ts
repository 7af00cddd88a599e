// ANSI X12 945 warehouse shipping advice: the warehouse's answer to the 940 the mesh sent it, as a
// shipment of that order. W06 names the order as the 940 did (W0602, the depositor order number, is our
// order id; W0606 the channel's PO number, checked against the order), the shipment (W0604) and its
// date (G62*11, else W0603); W27 the carrier (SCAC), N9*CN (else N9*BM) before the first line the
// tracking or bill of lading number. Each LX line's W12 gives the units shipped (W1203, in eaches) of
// a product whose id under the warehouse's qualifier, or VN as the 940 names it, is our SKU; a line
// shipping nothing (W1203 zero: short-shipped) ships nothing. W03's unit total must agree with the
// lines, so a truncated advice is refused whole.

import { type FieldViolation, RequestInvalid } from "@retail/platform/rpc";
import type { X12Segment } from "node-x12";
import { isoDate, productId, rowsOf } from "./x12-segments.js";
import type { ShippedOrder, X12Warehouse } from "./x12-ship-notice.js";

/** One 945: what left the warehouse for one order, named by our order id. */
export interface ShippingAdvice extends ShippedOrder {
  readonly orderId: string;
}

/** The qualifier the 940 the mesh sends names SKUs with (W01, vendor's item number). */
const sentQualifier = "VN";

/** Maps one 945 transaction set; violations name the segment (ST control number and segment). */
export function shippingAdviceToShipment(
  tx: { control: string; segments: X12Segment[] },
  warehouse: X12Warehouse,
): ShippingAdvice {
  const violations: FieldViolation[] = [];
  const at = (segment: string) => `ST ${tx.control} ${segment}`;
  const rows = rowsOf(tx.segments);
  const w06 = rows.find((r) => r.tag === "W06")?.el ?? [];
  const orderId = w06[1] ?? "";
  if (!orderId)
    violations.push({
      field: at("W0602"),
      description: "the depositor order number (our order id) is required",
    });
  const shipmentId = w06[3] ?? "";
  if (!shipmentId) violations.push({ field: at("W0604"), description: "the shipment id is required" });
  const firstLine = rows.findIndex((r) => r.tag === "LX");
  const header = firstLine < 0 ? rows : rows.slice(0, firstLine);
  const reference = (qualifier: string) => header.find((r) => r.tag === "N9" && r.el[0] === qualifier)?.el[1];
  const w27 = rows.find((r) => r.tag === "W27")?.el ?? [];

  const items: Array<{ sku: string; quantity: bigint }> = [];
  rows.forEach(({ tag, el }, i) => {
    if (tag !== "W12") return;
    const where = `W12 (segment ${i + 2})`;
    const sku = productId(el, warehouse.skuQualifier, [6, 15]) || productId(el, sentQualifier, [6, 15]);
    if (!sku)
      violations.push({
        field: at(where),
        description: `has no ${warehouse.skuQualifier} or ${sentQualifier} product id (our SKU)`,
      });
    if (!/^\d+$/.test(el[2] ?? ""))
      violations.push({
        field: at(`${where} W1203`),
        description: "must be the whole number of units shipped",
      });
    else if ((el[4] || "EA") !== "EA")
      violations.push({
        field: at(`${where} W1205`),
        description: `unit ${el[4]} is not supported: ship in eaches (EA)`,
      });
    else if (sku && BigInt(el[2] ?? "0") > 0n) items.push({ sku, quantity: BigInt(el[2] ?? "0") });
  });
  if (!rows.some((r) => r.tag === "W12"))
    violations.push({ field: at("W12"), description: "the advice has no line (LX/W12)" });
  const w03 = rows.find((r) => r.tag === "W03")?.el;
  const units = items.reduce((sum, item) => sum + item.quantity, 0n);
  if (w03 && (!/^\d+$/.test(w03[0] ?? "") || BigInt(w03[0] ?? "0") !== units))
    violations.push({ field: at("W0301"), description: `says ${w03[0]} units but the lines ship ${units}` });
  if (violations.length > 0) throw new RequestInvalid(violations);
  const shipDate = isoDate(rows.find((r) => r.tag === "G62" && r.el[0] === "11")?.el[1]) ?? isoDate(w06[2]);
  return {
    orderId,
    poNumber: w06[5] ?? "",
    shipmentId,
    carrier: w27[1] || w27[2] || "",
    trackingNumber: reference("CN") ?? reference("BM") ?? "",
    ...(shipDate && { shipDate }),
    items,
  };
}

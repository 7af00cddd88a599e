// ANSI X12 856 ship notices (ASN) from a warehouse as shipments of orders. The notice is a hierarchy:
// the shipment (HL…S: BSN02 the shipment id, TD5 the carrier, REF*CN the carrier's tracking number,
// DTM*011 the ship date), under it one level per order (HL…O: PRF01 the purchase order number, the
// order's channel order id) and under each order its items (HL…I: LIN with the product id whose
// qualifier the warehouse's configuration names as our SKU, SN1 the units shipped, in eaches). Each
// order of the notice becomes one shipment of that order; the control total (CTT01, the number of HL
// segments) must agree, so a truncated notice is refused whole.

import { type FieldViolation, RequestInvalid } from "@retail/platform/rpc";
import type { X12Segment } from "node-x12";
import { isoDate, linProductId, rowsOf } from "./x12-segments.js";

export interface X12Warehouse {
  /** The product id qualifier in LIN that carries our SKU (VP: the vendor's part number). */
  readonly skuQualifier: string;
}

/** One order's part of a ship notice: what left for it, by SKU. */
export interface ShippedOrder {
  readonly poNumber: string;
  /** The notice's shipment id (BSN02), with the order's HL id when the notice ships several orders. */
  readonly shipmentId: string;
  readonly carrier: string;
  readonly trackingNumber: string;
  /** The ship date (DTM*011) as an ISO date, when given. */
  readonly shipDate?: string;
  readonly items: ReadonlyArray<{ sku: string; quantity: bigint }>;
}

/** Maps one 856 transaction set; violations name the segment (ST control number and segment). */
export function shipNoticeToShipments(
  tx: { control: string; segments: X12Segment[] },
  warehouse: X12Warehouse,
): ShippedOrder[] {
  const violations: FieldViolation[] = [];
  const at = (segment: string) => `ST ${tx.control} ${segment}`;
  const rows = rowsOf(tx.segments);
  const bsn = rows.find((r) => r.tag === "BSN")?.el;
  const shipmentId = bsn?.[1] ?? "";
  if (!shipmentId) violations.push({ field: at("BSN02"), description: "the shipment id is required" });
  const td5 = rows.find((r) => r.tag === "TD5")?.el ?? [];
  // TD503 is the carrier's SCAC code; TD505 its name or routing when no code is given.
  const carrier = td5[2] || td5[4] || "";
  const trackingNumber = rows.find((r) => r.tag === "REF" && r.el[0] === "CN")?.el[1] ?? "";
  const shipDate = isoDate(rows.find((r) => r.tag === "DTM" && r.el[0] === "011")?.el[1]);

  const orders: Array<{ hl: string; poNumber: string; items: Array<{ sku: string; quantity: bigint }> }> = [];
  let hlCount = 0;
  let level = "";
  rows.forEach(({ tag, el }, i) => {
    const where = `${tag} (segment ${i + 2})`;
    if (tag === "HL") {
      hlCount++;
      level = el[2] ?? "";
      if (level === "O") orders.push({ hl: el[0] ?? "", poNumber: "", items: [] });
      else if (level === "I" && orders.length === 0)
        violations.push({ field: at(`HL ${el[0]}`), description: "an item must be under an order (HL…O)" });
      return;
    }
    const order = orders.at(-1);
    if (tag === "PRF" && level === "O" && order) order.poNumber = el[0] ?? "";
    if (tag === "LIN" && level === "I" && order) {
      const sku = linProductId(el, warehouse.skuQualifier);
      if (!sku)
        violations.push({
          field: at(where),
          description: `has no ${warehouse.skuQualifier} product id (our SKU)`,
        });
      order.items.push({ sku, quantity: 0n });
    }
    if (tag === "SN1" && level === "I" && order) {
      const item = order.items.at(-1);
      const quantity = /^\d+$/.test(el[1] ?? "") ? BigInt(el[1] ?? "0") : 0n;
      if (!item) violations.push({ field: at(where), description: "must follow the item's LIN" });
      else if (quantity <= 0n)
        violations.push({ field: at(`${where} SN102`), description: "must be a positive whole quantity" });
      else if (el[2] !== "EA")
        violations.push({
          field: at(`${where} SN103`),
          description: `unit ${el[2]} is not supported: ship in eaches (EA)`,
        });
      else item.quantity = quantity;
    }
  });
  if (orders.length === 0)
    violations.push({ field: at("HL"), description: "the notice ships no order (HL…O)" });
  for (const order of orders) {
    if (!order.poNumber)
      violations.push({
        field: at(`HL ${order.hl} PRF01`),
        description: "the purchase order number is required",
      });
    if (order.items.length === 0)
      violations.push({ field: at(`HL ${order.hl}`), description: "the order ships no item (HL…I)" });
  }
  const ctt = rows.find((r) => r.tag === "CTT")?.el;
  if (ctt && Number(ctt[0]) !== hlCount)
    violations.push({
      field: at("CTT01"),
      description: `says ${ctt[0]} HL levels but the notice has ${hlCount}`,
    });
  if (violations.length > 0) throw new RequestInvalid(violations);
  return orders.map((order) => ({
    poNumber: order.poNumber,
    shipmentId: orders.length > 1 ? `${shipmentId}-${order.hl}` : shipmentId,
    carrier,
    trackingNumber,
    ...(shipDate && { shipDate }),
    items: order.items,
  }));
}

/**
 * The order's lines a shipment of `items` covers: each SKU's units over the order's lines of that SKU
 * that still have units to ship, in line order. Units beyond what is open are a violation (a notice
 * for another order, or one already applied under another shipment id).
 */
export function shipmentLines(
  items: ShippedOrder["items"],
  lines: ReadonlyArray<{ lineId: string; sku: string; open: bigint }>,
  field: string,
): Array<{ lineId: string; quantity: bigint }> {
  const open = new Map(lines.map((l) => [l.lineId, l.open]));
  const shipped = new Map<string, bigint>();
  const violations: FieldViolation[] = [];
  for (const item of items) {
    let left = item.quantity;
    for (const line of lines) {
      if (line.sku !== item.sku || left === 0n) continue;
      const take = left < (open.get(line.lineId) ?? 0n) ? left : (open.get(line.lineId) ?? 0n);
      if (take === 0n) continue;
      open.set(line.lineId, (open.get(line.lineId) ?? 0n) - take);
      shipped.set(line.lineId, (shipped.get(line.lineId) ?? 0n) + take);
      left -= take;
    }
    if (left > 0n)
      violations.push({
        field,
        description: `ships ${item.quantity} of ${item.sku}, ${left} more than the order has open`,
      });
  }
  if (violations.length > 0) throw new RequestInvalid(violations);
  return [...shipped].map(([lineId, quantity]) => ({ lineId, quantity }));
}

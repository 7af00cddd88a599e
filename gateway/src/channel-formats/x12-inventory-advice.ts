// ANSI X12 846 inventory advice from a warehouse as cycle counts of its location. BIA03 is the
// advice's reference (with the sender, what makes a resent advice change nothing), BIA04/BIA05 when
// it was taken; each item is a LIN whose product id under the warehouse's qualifier is our SKU,
// followed by its quantities, of which QTY*17 (quantity on hand, in eaches) is the count. Other
// quantities (on order, available for sale …) are the warehouse's own views and are not read. The
// control total (CTT01, the number of LIN items) must agree, so a truncated advice is refused whole.

import { type FieldViolation, RequestInvalid } from "@retail/platform/rpc";
import type { X12Segment } from "node-x12";
import { isoDate, linProductId, rowsOf } from "./x12-segments.js";
import type { X12Warehouse } from "./x12-ship-notice.js";

/** What one 846 says the warehouse holds. */
export interface InventoryAdvice {
  /** BIA03: the advice's reference number. */
  readonly reference: string;
  /** When the count was taken (BIA04 and BIA05, read as UTC). */
  readonly countTime: Date;
  readonly items: ReadonlyArray<{ sku: string; onHand: bigint }>;
}

/** `HHMM` or `HHMMSS` as seconds into the day, or undefined. */
function secondsOf(time: string | undefined): number | undefined {
  if (!time || !/^\d{4}(\d{2})?$/.test(time)) return undefined;
  const [h, m, s] = [time.slice(0, 2), time.slice(2, 4), time.slice(4, 6) || "0"].map(Number);
  if ((h ?? 24) > 23 || (m ?? 60) > 59 || (s ?? 60) > 59) return undefined;
  return (h ?? 0) * 3600 + (m ?? 0) * 60 + (s ?? 0);
}

/** Maps one 846 transaction set; violations name the segment (ST control number and segment). */
export function inventoryAdviceToCounts(
  tx: { control: string; segments: X12Segment[] },
  warehouse: X12Warehouse,
): InventoryAdvice {
  const violations: FieldViolation[] = [];
  const at = (segment: string) => `ST ${tx.control} ${segment}`;
  const rows = rowsOf(tx.segments);
  const bia = rows.find((r) => r.tag === "BIA")?.el ?? [];
  const reference = bia[2] ?? "";
  if (!reference) violations.push({ field: at("BIA03"), description: "the advice's reference is required" });
  const date = isoDate(bia[3]);
  if (!date) violations.push({ field: at("BIA04"), description: "must be the advice's date as CCYYMMDD" });
  const seconds = bia[4] ? secondsOf(bia[4]) : 0;
  if (seconds === undefined)
    violations.push({ field: at("BIA05"), description: "must be a time as HHMM or HHMMSS" });

  const items: Array<{ sku: string; onHand: bigint | undefined; where: string }> = [];
  rows.forEach(({ tag, el }, i) => {
    const where = `${tag} (segment ${i + 2})`;
    if (tag === "LIN") {
      const sku = linProductId(el, warehouse.skuQualifier);
      if (!sku)
        violations.push({
          field: at(where),
          description: `has no ${warehouse.skuQualifier} product id (our SKU)`,
        });
      else if (items.some((item) => item.sku === sku))
        violations.push({ field: at(where), description: `repeats SKU ${sku}: one count per SKU` });
      items.push({ sku, onHand: undefined, where });
      return;
    }
    if (tag !== "QTY" || el[0] !== "17") return;
    const item = items.at(-1);
    const unit = (el[2] ?? "").split(/[>:^]/)[0] || "EA";
    if (!item) violations.push({ field: at(where), description: "must follow the item's LIN" });
    else if (!/^\d+$/.test(el[1] ?? ""))
      violations.push({ field: at(`${where} QTY02`), description: "must be a whole quantity, zero or more" });
    else if (unit !== "EA")
      violations.push({
        field: at(`${where} QTY03`),
        description: `unit ${unit} is not supported: count in eaches (EA)`,
      });
    else item.onHand = BigInt(el[1] ?? "0");
  });
  if (items.length === 0) violations.push({ field: at("LIN"), description: "the advice counts no item" });
  for (const item of items)
    if (item.sku && item.onHand === undefined)
      violations.push({
        field: at(item.where),
        description: `has no quantity on hand (QTY*17) for ${item.sku}`,
      });
  const ctt = rows.find((r) => r.tag === "CTT")?.el;
  if (ctt && Number(ctt[0]) !== items.length)
    violations.push({
      field: at("CTT01"),
      description: `says ${ctt[0]} items but the advice has ${items.length}`,
    });
  if (violations.length > 0) throw new RequestInvalid(violations);
  return {
    reference,
    countTime: new Date(Date.parse(`${date}T00:00:00Z`) + (seconds ?? 0) * 1000),
    items: items.map(({ sku, onHand }) => ({ sku, onHand: onHand ?? 0n })),
  };
}

import { type MovementType, MovementTypeSchema } from "@retail/contracts/retail/inventory/v1/inventory_pb";
import { Violations } from "@retail/platform/rpc";
import type { Catalog } from "../app/ports.js";
import { recordableTypes } from "../app/record-movement.js";

/** SKUs and location ids: letters, digits and . _ - / (no "@", which joins them in stream ids). */
const idPattern = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$/;
const maxQuantity = 1_000_000_000n;

export function checkSku(v: Violations, field: string, sku: string): void {
  if (v.require(field, sku) && !idPattern.test(sku)) {
    v.add(field, "must be 1-64 letters, digits, '.', '_', '-' or '/', starting with a letter or digit");
  }
}

/** A location id that is well formed and registered. */
export function checkLocation(v: Violations, field: string, locationId: string, catalog: Catalog): void {
  if (!v.require(field, locationId)) return;
  if (!idPattern.test(locationId)) v.add(field, "must be 1-64 letters, digits, '.', '_', '-' or '/'");
  else if (!catalog.hasLocation(locationId)) v.add(field, `unknown location ${locationId}`);
}

/** Positive quantities (or zero and up, where a level is being set), bounded so numbers stay exact. */
export function checkQuantity(v: Violations, field: string, quantity: bigint, allowZero = false): number {
  if (quantity < 0n || (!allowZero && quantity === 0n))
    v.add(field, allowZero ? "must be zero or more" : "must be greater than zero");
  else if (quantity > maxQuantity) v.add(field, `must be at most ${maxQuantity}`);
  return Number(quantity);
}

export function checkMovementType(v: Violations, field: string, type: MovementType): void {
  const known = MovementTypeSchema.values.some((value) => value.number === type);
  if (!known || type === 0) v.add(field, "must be a known movement type");
  else if (!recordableTypes.has(type)) {
    v.add(
      field,
      "reservation movements are recorded through ReserveStock, ReleaseReservation and CommitReservation",
    );
  }
}

export { Violations };

import type { StockPosition } from "@retail/contracts/retail/inventory/v1/inventory_pb";
import type { PositionState } from "../domain/stock-position.js";

/** A position as events report it: the figures and ledger version (holds stay in the ledger). */
export function positionFromEvent(p: StockPosition): PositionState {
  return {
    sku: p.sku,
    locationId: p.locationId,
    onHand: Number(p.onHand),
    reserved: Number(p.reserved),
    inTransit: Number(p.inTransit),
    damaged: Number(p.damaged),
    safetyStock: Number(p.safetyStock),
    holds: {},
    version: Number(p.ledgerVersion),
  };
}

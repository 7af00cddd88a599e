import { MovementType } from "@retail/contracts/retail/inventory/v1/inventory_pb";
import { payloadHash, requestKey } from "@retail/platform/store";
import type { Movement, PositionState } from "../domain/stock-position.js";
import { applyMovement, type MovementDeps } from "./apply-movement.js";

/** Movement types a caller records directly; reservation movements come from the reservation use cases. */
export const recordableTypes: ReadonlySet<MovementType> = new Set([
  MovementType.GOODS_RECEIPT,
  MovementType.PICK_CONFIRMATION,
  MovementType.SHIPMENT,
  MovementType.RETURN_TO_SELLABLE,
  MovementType.RETURN_TO_DAMAGED,
  MovementType.TRANSFER_OUT,
  MovementType.TRANSFER_IN,
  MovementType.CYCLE_COUNT,
  MovementType.DAMAGE,
  MovementType.WRITE_OFF,
  MovementType.SAFETY_STOCK_SET,
]);

/** The payload a movement id is bound to: a repeat must carry the same one. */
export function movementFingerprint(movement: Movement): string {
  return payloadHash(
    JSON.stringify([
      movement.type,
      movement.sku,
      movement.locationId,
      movement.quantity,
      movement.counterpartLocationId,
      movement.reservationId,
      movement.lineId,
      movement.reason,
    ]),
  );
}

/**
 * Records a validated movement once per movement id. A transfer out also raises the in-transit
 * quantity at the receiving location (the same ledger entry, appended to both positions).
 */
export async function recordMovement(
  deps: MovementDeps,
  movement: Movement,
): Promise<{ position: PositionState; applied: boolean }> {
  const hash = movementFingerprint(movement);
  const key = requestKey("inventory.movement", movement.movementId);
  const result = await applyMovement(deps, movement, movement.locationId, { key, payloadHash: hash });
  if (movement.type === MovementType.TRANSFER_OUT && movement.counterpartLocationId) {
    await applyMovement(deps, movement, movement.counterpartLocationId, {
      key: `${key}@${movement.counterpartLocationId}`,
      payloadHash: hash,
    });
  }
  return result;
}

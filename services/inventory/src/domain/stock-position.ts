import { MovementType } from "@retail/contracts/retail/inventory/v1/inventory_pb";
import { HoldExceeded, InsufficientStock, NegativeStock } from "./errors.js";

/** Stock states of one SKU at one location, folded from its ledger. */
export interface PositionState {
  readonly sku: string;
  readonly locationId: string;
  readonly onHand: number;
  readonly reserved: number;
  readonly inTransit: number;
  readonly damaged: number;
  readonly safetyStock: number;
  /** Quantity still held per reservation line ("reservationId/lineId"). */
  readonly holds: Readonly<Record<string, number>>;
  /** Ledger (stream) version this state reflects. */
  readonly version: number;
}

/** A ledger entry as the domain sees it (the proto StockMovement without transport details). */
export interface Movement {
  readonly movementId: string;
  readonly type: MovementType;
  readonly sku: string;
  readonly locationId: string;
  readonly quantity: number;
  readonly counterpartLocationId: string;
  readonly reservationId: string;
  readonly lineId: string;
  readonly reason: string;
  /** Provenance kept on the ledger entry: the system that reported it, and when it happened there. */
  readonly sourceSystem?: string;
  readonly occurTime?: Date;
}

/** A movement of no reservation and no transfer (receipts, shipments, returns, counts, safety stock). */
export function plainMovement(
  movement: Pick<Movement, "movementId" | "type" | "sku" | "locationId" | "quantity"> & Partial<Movement>,
): Movement {
  return { counterpartLocationId: "", reservationId: "", lineId: "", reason: "", ...movement };
}

export function emptyPosition(sku: string, locationId: string): PositionState {
  return {
    sku,
    locationId,
    onHand: 0,
    reserved: 0,
    inTransit: 0,
    damaged: 0,
    safetyStock: 0,
    holds: {},
    version: 0,
  };
}

/** available = on hand - reserved - damaged - safety stock, never below zero. */
export function availableOf(state: PositionState): number {
  return Math.max(0, state.onHand - state.reserved - state.damaged - state.safetyStock);
}

/**
 * Units reserved beyond what sellable stock (on hand - damaged) can cover; sellable stock below zero
 * (goods shipped that no hold covered) counts in full.
 */
export function shortfallOf(state: PositionState): number {
  return Math.max(0, state.reserved - (state.onHand - state.damaged));
}

export function holdKey(reservationId: string, lineId: string): string {
  return `${reservationId}/${lineId}`;
}

function withHold(state: PositionState, key: string, delta: number): Record<string, number> {
  const holds = { ...state.holds };
  const next = (holds[key] ?? 0) + delta;
  if (next > 0) holds[key] = next;
  else delete holds[key];
  return holds;
}

/**
 * Applies a movement to a position: the one place that says what each movement type does. A movement
 * at the other end of a transfer (this position is its counterpart) moves in-transit quantities.
 */
export function evolve(state: PositionState, movement: Movement, version: number): PositionState {
  const q = movement.quantity;
  const atCounterpart = movement.locationId !== state.locationId;
  const key = holdKey(movement.reservationId, movement.lineId);
  const next = (changes: Partial<PositionState>): PositionState => ({ ...state, ...changes, version });
  switch (movement.type) {
    case MovementType.GOODS_RECEIPT:
    case MovementType.RETURN_TO_SELLABLE:
      return next({ onHand: state.onHand + q });
    case MovementType.RETURN_TO_DAMAGED:
      return next({ onHand: state.onHand + q, damaged: state.damaged + q });
    case MovementType.PICK_CONFIRMATION:
    case MovementType.SHIPMENT:
    case MovementType.RESERVATION_COMMIT:
      return movement.reservationId
        ? next({ onHand: state.onHand - q, reserved: state.reserved - q, holds: withHold(state, key, -q) })
        : next({ onHand: state.onHand - q });
    case MovementType.TRANSFER_OUT:
      return atCounterpart ? next({ inTransit: state.inTransit + q }) : next({ onHand: state.onHand - q });
    case MovementType.TRANSFER_IN:
      return next({ onHand: state.onHand + q, inTransit: Math.max(0, state.inTransit - q) });
    case MovementType.CYCLE_COUNT:
      return next({ onHand: q, damaged: Math.min(state.damaged, q) });
    case MovementType.DAMAGE:
      return next({ damaged: state.damaged + q });
    case MovementType.WRITE_OFF:
      return next({ onHand: state.onHand - q, damaged: Math.max(0, state.damaged - q) });
    case MovementType.SAFETY_STOCK_SET:
      return next({ safetyStock: q });
    case MovementType.RESERVATION:
      return next({ reserved: state.reserved + q, holds: withHold(state, key, q) });
    case MovementType.RESERVATION_RELEASE:
      return next({ reserved: state.reserved - q, holds: withHold(state, key, -q) });
    default:
      return next({});
  }
}

/** What a movement decides: the state after it, how on hand changed, and any shortfall it revealed. */
export interface MovementDecision {
  readonly after: PositionState;
  readonly onHandDelta: number;
  /** Set when reservations no longer fit in sellable stock after this movement (and did fit less). */
  readonly newShortfall: { readonly units: number; readonly reservationIds: readonly string[] } | undefined;
}

/**
 * Decides whether a movement may apply to a position, and with what effect. Refuses a reservation larger
 * than the available quantity, a release or commit beyond what a line holds, and anything that would
 * take on hand below zero unless the movement carries an explicit reason (which the caller logs).
 */
export function decideMovement(state: PositionState, movement: Movement): MovementDecision {
  const q = movement.quantity;
  const held = state.holds[holdKey(movement.reservationId, movement.lineId)] ?? 0;
  switch (movement.type) {
    case MovementType.RESERVATION:
      if (q > availableOf(state)) {
        throw new InsufficientStock([
          { sku: state.sku, locationId: state.locationId, requested: q, available: availableOf(state) },
        ]);
      }
      break;
    case MovementType.RESERVATION_RELEASE:
    case MovementType.RESERVATION_COMMIT:
      if (q > held) throw new HoldExceeded(movement.reservationId, movement.lineId, q, held);
      break;
    case MovementType.PICK_CONFIRMATION:
    case MovementType.SHIPMENT:
      if (movement.reservationId && q > held)
        throw new HoldExceeded(movement.reservationId, movement.lineId, q, held);
      break;
    case MovementType.DAMAGE:
      if (q > state.onHand - state.damaged && !movement.reason) {
        throw new NegativeStock(
          state.sku,
          state.locationId,
          "damaged would exceed on hand",
          state.onHand - state.damaged,
          q,
        );
      }
      break;
    default:
      break;
  }
  const after = evolve(state, movement, state.version + 1);
  if (after.onHand < 0 && !movement.reason) {
    throw new NegativeStock(state.sku, state.locationId, "on hand would go below zero", state.onHand, q);
  }
  const before = shortfallOf(state);
  const now = shortfallOf(after);
  return {
    after,
    onHandDelta: after.onHand - state.onHand,
    newShortfall:
      now > before
        ? {
            units: now,
            reservationIds: [...new Set(Object.keys(after.holds).map((k) => k.split("/")[0] ?? k))],
          }
        : undefined,
  };
}

import { timestampDate } from "@bufbuild/protobuf/wkt";
import type {
  ReservationCommitted,
  ReservationConfirmed,
  ReservationExpired,
  ReservationReleased,
  ReservationRequested,
  StockReserved,
} from "@retail/contracts/retail/inventory/v1/inventory_events_pb";
import { type Reservation, ReservationStatus } from "@retail/contracts/retail/inventory/v1/inventory_pb";
import { LineQuantityExceeded, ReservationClosed, type Shortage } from "./errors.js";

export interface ReservationLineState {
  readonly lineId: string;
  readonly sku: string;
  readonly locationId: string;
  readonly quantity: number;
  readonly committed: number;
  readonly released: number;
}

/** A reservation as folded from its own stream. */
export interface ReservationState {
  readonly reservationId: string;
  readonly orderId: string;
  readonly status: ReservationStatus;
  readonly lines: readonly ReservationLineState[];
  readonly expireTime: Date;
  readonly createTime: Date;
  readonly channel: number;
  readonly releaseReason: string;
  /** Confirmed for an accepted order: no expiry; the hold ends by shipment, pickup or cancellation. */
  readonly heldUntilFulfilled: boolean;
  /** Set when the reservation was refused for want of stock: what each SKU lacked. */
  readonly shortages: readonly Shortage[];
  readonly version: number;
}

/** A quantity of one reservation line. */
export interface LineQuantity {
  readonly lineId: string;
  readonly quantity: number;
}

export function remainingOf(line: ReservationLineState): number {
  return line.quantity - line.committed - line.released;
}

const open = new Set([
  ReservationStatus.PENDING,
  ReservationStatus.ACTIVE,
  ReservationStatus.PARTIALLY_COMMITTED,
]);

export function isOpen(state: ReservationState): boolean {
  return open.has(state.status);
}

/** Status after commits and releases: what is left decides between active, committed and released. */
export function statusAfter(
  lines: readonly ReservationLineState[],
  closing: ReservationStatus,
): ReservationStatus {
  const remaining = lines.reduce((sum, l) => sum + remainingOf(l), 0);
  const committed = lines.reduce((sum, l) => sum + l.committed, 0);
  if (remaining > 0) return committed > 0 ? ReservationStatus.PARTIALLY_COMMITTED : ReservationStatus.ACTIVE;
  return committed > 0 ? ReservationStatus.COMMITTED : closing;
}

/**
 * Whether confirming the reservation changes it: false when it is held until fulfilled already.
 * Refuses a reservation that is not holding stock (closed, or still being placed).
 */
export function decideConfirm(state: ReservationState): boolean {
  if (state.heldUntilFulfilled) return false;
  if (!isOpen(state) || state.status === ReservationStatus.PENDING)
    throw new ReservationClosed(state.reservationId, ReservationStatus[state.status] ?? "closed");
  return true;
}

/** Whether the expiry sweep may release the reservation now (confirmed holds never expire). */
export function isDue(state: ReservationState, now: Date): boolean {
  return isOpen(state) && !state.heldUntilFulfilled && state.expireTime.getTime() <= now.getTime();
}

/**
 * Resolves which quantities a commit or release takes: the lines asked for, or everything still
 * remaining when none are named. Refuses a closed reservation, an unknown line and a quantity beyond
 * what a line has left.
 */
export function decideLineChange(
  state: ReservationState,
  requested: readonly LineQuantity[],
): LineQuantity[] {
  if (!isOpen(state))
    throw new ReservationClosed(state.reservationId, ReservationStatus[state.status] ?? "closed");
  if (requested.length === 0) {
    return state.lines
      .filter((l) => remainingOf(l) > 0)
      .map((l) => ({ lineId: l.lineId, quantity: remainingOf(l) }));
  }
  return requested.map((r) => {
    const line = state.lines.find((l) => l.lineId === r.lineId);
    const remaining = line ? remainingOf(line) : 0;
    if (!line || r.quantity > remaining) {
      throw new LineQuantityExceeded(state.reservationId, r.lineId, r.quantity, remaining);
    }
    return r;
  });
}

/** Applies committed or released quantities to the lines. */
export function applyLineChange(
  lines: readonly ReservationLineState[],
  change: readonly LineQuantity[],
  kind: "committed" | "released",
): ReservationLineState[] {
  return lines.map((line) => {
    const taken = change.filter((c) => c.lineId === line.lineId).reduce((sum, c) => sum + c.quantity, 0);
    return taken === 0 ? line : { ...line, [kind]: line[kind] + taken };
  });
}

/** The reservation stream's events, decoded. */
export type ReservationEvent =
  | ReservationRequested
  | StockReserved
  | ReservationReleased
  | ReservationCommitted
  | ReservationConfirmed
  | ReservationExpired;

function linesOf(reservation: Reservation | undefined): ReservationLineState[] {
  return (reservation?.lines ?? []).map((l) => ({
    lineId: l.lineId,
    sku: l.sku,
    locationId: l.locationId,
    quantity: Number(l.quantity),
    committed: Number(l.committedQuantity),
    released: Number(l.releasedQuantity),
  }));
}

function fromReservation(
  reservation: Reservation | undefined,
  status: ReservationStatus,
  version: number,
): ReservationState {
  return {
    reservationId: reservation?.reservationId ?? "",
    orderId: reservation?.orderId ?? "",
    status,
    lines: linesOf(reservation),
    expireTime: reservation?.expireTime ? timestampDate(reservation.expireTime) : new Date(0),
    createTime: reservation?.createTime ? timestampDate(reservation.createTime) : new Date(0),
    channel: reservation?.channel ?? 0,
    releaseReason: reservation?.releaseReason ?? "",
    heldUntilFulfilled: reservation?.heldUntilFulfilled ?? false,
    shortages: [],
    version,
  };
}

/** Folds one event of a reservation's stream into its state. */
export function evolveReservation(
  state: ReservationState | undefined,
  event: ReservationEvent,
  version: number,
): ReservationState {
  switch (event.$typeName) {
    case "retail.inventory.v1.ReservationRequested":
      return fromReservation(event.reservation, ReservationStatus.PENDING, version);
    case "retail.inventory.v1.StockReserved":
      return fromReservation(event.reservation, ReservationStatus.ACTIVE, version);
    default: {
      if (!state) throw new Error(`reservation event ${event.$typeName} before the reservation exists`);
      if (event.$typeName === "retail.inventory.v1.ReservationConfirmed") {
        return { ...state, heldUntilFulfilled: true, version };
      }
      if (event.$typeName === "retail.inventory.v1.ReservationExpired") {
        const lines = state.lines.map((l) => ({ ...l, released: l.released + remainingOf(l) }));
        return { ...state, lines, status: ReservationStatus.EXPIRED, releaseReason: "expired", version };
      }
      const change = event.lines.map((l) => ({ lineId: l.lineId, quantity: Number(l.quantity) }));
      if (event.$typeName === "retail.inventory.v1.ReservationCommitted") {
        const lines = applyLineChange(state.lines, change, "committed");
        return { ...state, lines, status: statusAfter(lines, ReservationStatus.RELEASED), version };
      }
      const lines = applyLineChange(state.lines, change, "released");
      return {
        ...state,
        lines,
        status: statusAfter(lines, ReservationStatus.RELEASED),
        releaseReason: event.reason,
        shortages: event.shortages.map((sh) => ({
          sku: sh.sku,
          locationId: sh.locationId,
          requested: Number(sh.requested),
          available: Number(sh.available),
        })),
        version,
      };
    }
  }
}

import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  ReservationReleasedSchema,
  ReservationRequestedSchema,
  StockReservedSchema,
} from "@retail/contracts/retail/inventory/v1/inventory_events_pb";
import {
  type FulfillmentPromise,
  MovementType,
  type Reservation,
  ReservationSchema,
  ReservationStatus,
} from "@retail/contracts/retail/inventory/v1/inventory_pb";
import { ConcurrencyConflict, event, type RequestRef, requestKey } from "@retail/platform/store";
import { chooseLocations, locationsForPromise } from "../domain/channels.js";
import { InsufficientStock, ReservationBeingPlaced, type Shortage } from "../domain/errors.js";
import { isOpen, type ReservationLineState, type ReservationState } from "../domain/reservation.js";
import { holdKey } from "../domain/stock-position.js";
import { applyMovement, type MovementDeps, movementRequest } from "./apply-movement.js";
import type { ReservationStore } from "./ports.js";

export interface ReserveLine {
  readonly lineId: string;
  readonly sku: string;
  readonly quantity: number;
  /** Empty: the service chooses. */
  readonly locationId: string;
}

export interface ReserveStock {
  /** The caller's request id and the fingerprint of the request it sent (computed where it arrived). */
  readonly request: RequestRef;
  readonly orderId: string;
  readonly lines: readonly ReserveLine[];
  readonly channel: number;
  readonly channelId: string;
  /** Narrows the channel's locations to those that keep this promise (validated by the caller). */
  readonly promise: FulfillmentPromise;
  readonly ttlMs: number;
}

export interface ReservationDeps extends MovementDeps {
  readonly reservations: ReservationStore;
}

/** How many candidate locations a line without a location tries before it counts as short. */
const maxCandidates = 3;

export function toReservation(state: ReservationState): Reservation {
  return create(ReservationSchema, {
    reservationId: state.reservationId,
    orderId: state.orderId,
    status: state.status,
    lines: state.lines.map((l) => ({
      lineId: l.lineId,
      sku: l.sku,
      locationId: l.locationId,
      quantity: BigInt(l.quantity),
      committedQuantity: BigInt(l.committed),
      releasedQuantity: BigInt(l.released),
    })),
    ...(state.heldUntilFulfilled ? {} : { expireTime: timestampFromDate(state.expireTime) }),
    createTime: timestampFromDate(state.createTime),
    channel: state.channel,
    releaseReason: state.releaseReason,
    heldUntilFulfilled: state.heldUntilFulfilled,
  });
}

function reservationMessage(
  id: string,
  command: ReserveStock,
  lines: readonly ReservationLineState[],
  now: Date,
  status: ReservationStatus,
): Reservation {
  return toReservation({
    reservationId: id,
    orderId: command.orderId,
    status,
    lines,
    expireTime: new Date(now.getTime() + command.ttlMs),
    createTime: now,
    channel: command.channel,
    releaseReason: "",
    heldUntilFulfilled: false,
    shortages: [],
    version: 0,
  });
}

/**
 * Reserves an order's lines: records the reservation as pending (so a crash mid-way is found and
 * released by the expiry sweep), holds each line on its SKU's ledger (at the location given, else at
 * one location that can fulfil every line, else the best one per line), then confirms it. If any line
 * is short, the holds already made are released and the reservation ends released, and the caller
 * learns every SKU and quantity short. A repeated request id returns the first outcome.
 */
export async function reserveStock(deps: ReservationDeps, command: ReserveStock): Promise<ReservationState> {
  const request = {
    key: requestKey("inventory.ReserveStock", command.request.id),
    fingerprint: command.request.fingerprint,
  };
  // No lookup before deciding: the reservation's first append is keyed by the request, so a repeat
  // finds the first reservation there (below) before it holds anything.
  const rule = command.channelId ? deps.catalog.rule(command.channelId) : undefined;
  const candidates = rule
    ? (locationsForPromise(rule, command.promise, (id) => deps.catalog.locationType(id)) ?? [])
    : deps.catalog.locationIds();
  const unplaced = command.lines.filter((l) => !l.locationId);
  const choices = chooseLocations(unplaced, candidates, (sku, loc) => deps.readModel.available(sku, loc));
  const plan = command.lines.map((line) =>
    line.locationId
      ? { line, locationIds: [line.locationId] }
      : { line, locationIds: (choices[unplaced.indexOf(line)]?.locationIds ?? []).slice(0, maxCandidates) },
  );

  const id = randomUUID();
  const now = deps.clock.now();
  const planned = plan.map(({ line, locationIds }) => ({
    lineId: line.lineId,
    sku: line.sku,
    locationId: locationIds[0] ?? "",
    quantity: line.quantity,
    committed: 0,
    released: 0,
  }));
  const requested = reservationMessage(id, command, planned, now, ReservationStatus.PENDING);
  const pending = await deps.reservations.append(
    id,
    undefined,
    [event(ReservationRequestedSchema, create(ReservationRequestedSchema, { reservation: requested }))],
    request,
  );
  // The same request placed at the same moment by another call or instance: its reservation answers.
  if (pending.replayed) return replay(deps, pending.state.reservationId);

  const held: ReservationLineState[] = [];
  const shortages: Shortage[] = [];
  for (const { line, locationIds } of plan) {
    let placed = false;
    let best = 0;
    for (const locationId of locationIds) {
      try {
        const hold = reservationMovement(id, line, locationId, MovementType.RESERVATION);
        await applyMovement(
          deps,
          hold,
          locationId,
          movementRequest(`inventory.hold:${id}:${line.lineId}`, hold),
          {
            fresh: true,
          },
        );
        held.push({
          lineId: line.lineId,
          sku: line.sku,
          quantity: line.quantity,
          committed: 0,
          released: 0,
          locationId,
        });
        placed = true;
        break;
      } catch (error) {
        if (!(error instanceof InsufficientStock)) throw error;
        best = Math.max(best, ...error.shortages.map((s) => s.available));
      }
    }
    if (!placed)
      shortages.push({
        sku: line.sku,
        locationId: line.locationId,
        requested: line.quantity,
        available: best,
      });
  }

  if (shortages.length > 0) {
    for (const line of held) {
      const unhold = reservationMovement(id, line, line.locationId, MovementType.RESERVATION_RELEASE);
      await applyMovement(
        deps,
        unhold,
        line.locationId,
        movementRequest(`inventory.unhold:${id}:${line.lineId}`, unhold),
        { fresh: true },
      );
    }
    const reason = new InsufficientStock(shortages).message;
    await deps.reservations.append(id, pending.state, [
      event(
        ReservationReleasedSchema,
        create(ReservationReleasedSchema, {
          reservationId: id,
          orderId: command.orderId,
          lines: planned.map((l) => ({ lineId: l.lineId, quantity: BigInt(l.quantity) })),
          reason,
          shortages: shortages.map((sh) => ({
            sku: sh.sku,
            locationId: sh.locationId,
            requested: BigInt(sh.requested),
            available: BigInt(sh.available),
          })),
        }),
      ),
    ]);
    throw new InsufficientStock(shortages);
  }
  const reserved = reservationMessage(id, command, held, now, ReservationStatus.ACTIVE);
  try {
    const { state } = await deps.reservations.append(id, pending.state, [
      event(StockReservedSchema, create(StockReservedSchema, { reservation: reserved })),
    ]);
    return state;
  } catch (error) {
    if (!(error instanceof ConcurrencyConflict)) throw error;
    return letGoOfSwept(deps, id, held, error);
  }
}

/**
 * The reservation moved on while this call was placing it: the expiry sweep took it for one a crash
 * left pending (the placing outlasted the grace on a loaded machine) and released what was held when
 * it looked. Holds placed after that are this call's to let go, or they would hold stock for nobody.
 * The reservation answers as it ended (released: the caller reserves again).
 */
async function letGoOfSwept(
  deps: ReservationDeps,
  id: string,
  held: readonly ReservationLineState[],
  conflict: ConcurrencyConflict,
): Promise<ReservationState> {
  const state = await deps.reservations.load(id);
  if (!state || isOpen(state)) throw conflict;
  for (const line of held) {
    for (const left of await holdsOnLedger(deps, id, [line], [line.locationId])) {
      const unhold = reservationMovement(id, left, left.locationId, MovementType.RESERVATION_RELEASE);
      const swept = { ...unhold, movementId: `${unhold.movementId}:swept` };
      await applyMovement(
        deps,
        swept,
        left.locationId,
        movementRequest(`inventory.unhold-swept:${id}:${line.lineId}`, swept),
      );
    }
  }
  deps.logger.warn(
    { reservationId: id, orderId: state.orderId },
    "reservation swept while it was being placed; released the holds placed after the sweep",
  );
  return state;
}

/** The ledger movement that holds, releases or commits a reservation line's quantity. */
export function reservationMovement(
  reservationId: string,
  line: { lineId: string; sku: string; quantity: number },
  locationId: string,
  type: MovementType,
) {
  return {
    movementId: `${reservationId}:${line.lineId}:${MovementType[type]}`,
    type,
    sku: line.sku,
    locationId,
    quantity: line.quantity,
    counterpartLocationId: "",
    reservationId,
    lineId: line.lineId,
    reason: "",
  };
}

/**
 * What a reservation's lines still hold on the ledger at any of the given locations: a line's
 * quantity and location as its hold there says, for each hold found.
 */
export async function holdsOnLedger(
  deps: ReservationDeps,
  reservationId: string,
  lines: ReadonlyArray<{ lineId: string; sku: string }>,
  locationIds: readonly string[],
): Promise<Array<{ lineId: string; sku: string; locationId: string; quantity: number }>> {
  const held: Array<{ lineId: string; sku: string; locationId: string; quantity: number }> = [];
  for (const line of lines) {
    for (const locationId of locationIds) {
      const position = await deps.ledger.load(line.sku, locationId);
      const quantity = position.holds[holdKey(reservationId, line.lineId)] ?? 0;
      if (quantity > 0) held.push({ lineId: line.lineId, sku: line.sku, locationId, quantity });
    }
  }
  return held;
}

/** How long a repeat waits for the first call of its request to finish placing the reservation. */
const placementWaitMs = 3_000;

/**
 * The reservation a repeated request placed. A repeat that comes while the first call is still placing
 * (a caller that timed out and asked again) waits for it a moment, then says to ask again: answering
 * the PENDING reservation would let the caller confirm a reservation that holds nothing yet.
 */
async function replay(deps: ReservationDeps, reservationId: string): Promise<ReservationState> {
  const deadline = Date.now() + placementWaitMs;
  for (let wait = 25; ; wait = Math.min(wait * 2, 400)) {
    const state = await deps.reservations.load(reservationId);
    if (!state) throw new Error(`reservation ${reservationId} has a request record but no stream`);
    if (state.status !== ReservationStatus.PENDING) {
      // A reservation refused for want of stock is refused again, with the same shortages.
      if (state.shortages.length > 0) throw new InsufficientStock(state.shortages);
      return state;
    }
    if (Date.now() + wait > deadline) throw new ReservationBeingPlaced(reservationId);
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

import { create } from "@bufbuild/protobuf";
import {
  ReservationCommittedSchema,
  ReservationConfirmedSchema,
  ReservationExpiredSchema,
  ReservationReleasedSchema,
} from "@retail/contracts/retail/inventory/v1/inventory_events_pb";
import { MovementType, ReservationStatus } from "@retail/contracts/retail/inventory/v1/inventory_pb";
import {
  ConcurrencyConflict,
  event,
  internalRequest,
  type RequestRef,
  requestKey,
  retryOnConflict,
} from "@retail/platform/store";
import { UnknownReservation } from "../domain/errors.js";
import {
  decideConfirm,
  decideLineChange,
  isDue,
  type LineQuantity,
  type ReservationState,
} from "../domain/reservation.js";
import { applyMovement, movementRequest } from "./apply-movement.js";
import { holdsOnLedger, type ReservationDeps, reservationMovement } from "./reserve-stock.js";

export type ReservationChangeKind = "release" | "commit" | "expire";

export interface ChangeReservation {
  readonly kind: ReservationChangeKind;
  /** The caller's request, an order event, or the expiry sweep's own. */
  readonly request: RequestRef;
  readonly reservationId: string;
  /** Empty: everything still held. */
  readonly lines: readonly LineQuantity[];
  readonly reason: string;
}

const movementOf: Record<ReservationChangeKind, MovementType> = {
  release: MovementType.RESERVATION_RELEASE,
  commit: MovementType.RESERVATION_COMMIT,
  expire: MovementType.RESERVATION_RELEASE,
};

/**
 * Releases, commits or expires a reservation, wholly or line by line (a cancelled line, a split
 * shipment): the held quantities are released or committed on each SKU's ledger first, then the
 * reservation records the change. Each ledger movement is keyed by the request, so a retry after a
 * crash completes the change without applying any part twice.
 */
export async function changeReservation(
  deps: ReservationDeps,
  command: ChangeReservation,
): Promise<ReservationState> {
  const request = {
    key: requestKey(`inventory.${command.kind}Reservation`, `${command.reservationId}:${command.request.id}`),
    fingerprint: command.request.fingerprint,
  };
  return deps.lock(`reservation:${command.reservationId}`, () =>
    retryOnConflict(
      async () => {
        const { state, applied } = await deps.reservations.loadFor(command.reservationId, request);
        if (!state) throw new UnknownReservation(command.reservationId);
        if (applied) return state;
        // The sweep listed it before its order confirmed it (or before another instance expired it).
        const confirmedSinceListed = command.kind === "expire" && state.status !== ReservationStatus.PENDING;
        if (confirmedSinceListed && !isDue(state, deps.clock.now())) return state;
        const change = decideLineChange(state, command.lines);
        // A reservation left pending by a crash holds only what was placed before it, wherever its
        // placing put it (a line goes to another candidate location when the first is short): that.
        const moves =
          state.status === ReservationStatus.PENDING
            ? await holdsOnLedger(deps, state.reservationId, state.lines, deps.catalog.locationIds())
            : change.flatMap(({ lineId, quantity }) => {
                const line = state.lines.find((l) => l.lineId === lineId);
                return line ? [{ ...line, quantity }] : [];
              });
        for (const line of moves) {
          if (line.quantity === 0) continue;
          const movement = reservationMovement(
            state.reservationId,
            line,
            line.locationId,
            movementOf[command.kind],
          );
          const keyed = { ...movement, movementId: `${movement.movementId}:${command.request.id}` };
          await applyMovement(
            deps,
            keyed,
            line.locationId,
            movementRequest(`${request.key}:${line.lineId}`, keyed),
          );
        }
        const lines = change.map((c) => ({ lineId: c.lineId, quantity: BigInt(c.quantity) }));
        const base = { reservationId: state.reservationId, orderId: state.orderId };
        const recorded =
          command.kind === "commit"
            ? event(ReservationCommittedSchema, create(ReservationCommittedSchema, { ...base, lines }))
            : command.kind === "release"
              ? event(
                  ReservationReleasedSchema,
                  create(ReservationReleasedSchema, { ...base, lines, reason: command.reason }),
                )
              : event(ReservationExpiredSchema, create(ReservationExpiredSchema, base));
        const result = await deps.reservations.append(state.reservationId, state, [recorded], request);
        return result.state;
      },
      (error) => error instanceof ConcurrencyConflict,
    ),
  );
}

/**
 * Confirms a reservation for an accepted order: from now on it holds until its lines ship, are picked
 * up or are cancelled, and the expiry sweep leaves it alone. A repeat changes nothing.
 */
export async function confirmReservation(
  deps: ReservationDeps,
  command: { readonly requestId: string; readonly reservationId: string },
): Promise<ReservationState> {
  return deps.lock(`reservation:${command.reservationId}`, () =>
    retryOnConflict(
      async () => {
        const state = await deps.reservations.load(command.reservationId);
        if (!state) throw new UnknownReservation(command.reservationId);
        if (!decideConfirm(state)) return state;
        const confirmed = create(ReservationConfirmedSchema, {
          reservationId: state.reservationId,
          orderId: state.orderId,
        });
        const result = await deps.reservations.append(state.reservationId, state, [
          event(ReservationConfirmedSchema, confirmed),
        ]);
        return result.state;
      },
      (error) => error instanceof ConcurrencyConflict,
    ),
  );
}

/**
 * Releases what is due: open reservations past their expiry, and reservations left pending by a
 * crash mid-placement. Every instance runs it; two doing the same one race on its stream and one wins.
 */
export async function expireDueReservations(
  deps: ReservationDeps,
  options: { pendingGraceMs: number },
): Promise<number> {
  const now = deps.clock.now();
  const due = await deps.reservations.due(now, new Date(now.getTime() - options.pendingGraceMs));
  let expired = 0;
  for (const reservationId of due) {
    try {
      await changeReservation(deps, {
        kind: "expire",
        request: internalRequest("expiry"),
        reservationId,
        lines: [],
        reason: "expired",
      });
      expired++;
    } catch (error) {
      if (error instanceof UnknownReservation) await deps.reservations.forget(reservationId);
      else
        deps.logger.warn(
          { reservationId, err: error },
          "could not expire reservation; next sweep tries again",
        );
    }
  }
  return expired;
}

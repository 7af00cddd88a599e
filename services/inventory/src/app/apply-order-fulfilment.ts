import { remainingOf } from "../domain/reservation.js";
import { changeReservation } from "./change-reservation.js";
import type { ReservationDeps } from "./reserve-stock.js";

/** What the order service reports about an order's lines (its events, as this service needs them). */
export interface OrderFulfilment {
  /** release: lines cancelled or the order rejected; commit: lines shipped or picked up. */
  readonly kind: "release" | "commit";
  /** The order event's id: the request id of every change it makes, so a redelivery changes nothing. */
  readonly eventId: string;
  readonly orderId: string;
  /** Empty: every line still held. Reservation line ids are the order's line ids. */
  readonly lines: ReadonlyArray<{ readonly lineId: string; readonly quantity: number }>;
  readonly reason: string;
}

/**
 * Releases or commits what an order event says, on the order's open reservations: the lines it names
 * (capped at what each still holds), or everything still held when it names none.
 */
export async function applyOrderFulfilment(
  deps: ReservationDeps,
  fulfilment: OrderFulfilment,
): Promise<number> {
  let changed = 0;
  for (const reservationId of await deps.reservations.openForOrder(fulfilment.orderId)) {
    const reservation = await deps.reservations.load(reservationId);
    if (!reservation) continue;
    const lines =
      fulfilment.lines.length === 0
        ? []
        : fulfilment.lines.flatMap(({ lineId, quantity }) => {
            const line = reservation.lines.find((l) => l.lineId === lineId);
            const take = line ? Math.min(quantity, remainingOf(line)) : 0;
            return take > 0 ? [{ lineId, quantity: take }] : [];
          });
    if (fulfilment.lines.length > 0 && lines.length === 0) continue;
    await changeReservation(deps, {
      kind: fulfilment.kind,
      requestId: fulfilment.eventId,
      reservationId,
      lines,
      reason: fulfilment.reason,
    });
    changed++;
  }
  return changed;
}

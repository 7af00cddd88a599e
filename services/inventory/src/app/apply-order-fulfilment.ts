import { MovementType } from "@retail/contracts/retail/inventory/v1/inventory_pb";
import type { RequestRef } from "@retail/platform/store";
import { ReservationClosed } from "../domain/errors.js";
import { isOpen, remainingOf } from "../domain/reservation.js";
import { plainMovement } from "../domain/stock-position.js";
import { changeReservation } from "./change-reservation.js";
import type { FulfilmentPlan, PlacedLine } from "./ports.js";
import { recordMovement } from "./record-movement.js";
import type { ReservationDeps } from "./reserve-stock.js";

/** What the order service reports about an order's lines (its events, as this service needs them). */
export interface OrderFulfilment {
  /** release: lines cancelled or the order rejected; commit: lines shipped or picked up. */
  readonly kind: "release" | "commit";
  /** The order event as a request: its id keys every change it makes, so a redelivery changes nothing. */
  readonly request: RequestRef;
  readonly orderId: string;
  /** Empty: every line still held. Reservation line ids are the order's line ids. */
  readonly lines: ReadonlyArray<{ readonly lineId: string; readonly quantity: number; readonly sku: string }>;
  /** Where shipped or collected goods left from; empty when the order did not say. */
  readonly locationId: string;
  readonly reason: string;
  /** When it happened at the order's source. */
  readonly occurTime: Date | undefined;
}

/** The reason a shipment without a hold carries: it lets on hand go below zero, and says why. */
export const unheldShipmentReason = "shipped without an open hold";

/**
 * Decides what an order event does to stock: which open holds it releases or commits (the lines it
 * names, capped at what each still holds, or everything when it names none), and, for a shipment or
 * pickup, the units no hold covered (a hold that lapsed or was never placed).
 */
async function planFulfilment(deps: ReservationDeps, fulfilment: OrderFulfilment): Promise<FulfilmentPlan> {
  const reservations = await deps.reservations.forOrder(fulfilment.orderId);
  const left = new Map(fulfilment.lines.map((l) => [l.lineId, l.quantity]));
  const changes: Array<FulfilmentPlan["changes"][number]> = [];
  for (const { reservationId, open } of reservations) {
    if (!open) continue;
    const reservation = await deps.reservations.load(reservationId);
    // Listed open, closed since (released by its order, swept, committed on another instance).
    if (!reservation || !isOpen(reservation)) continue;
    if (fulfilment.lines.length === 0) {
      changes.push({ reservationId, lines: [] });
      continue;
    }
    const lines = fulfilment.lines.flatMap(({ lineId }) => {
      const line = reservation.lines.find((l) => l.lineId === lineId);
      const take = line ? Math.min(left.get(lineId) ?? 0, remainingOf(line)) : 0;
      if (take <= 0) return [];
      left.set(lineId, (left.get(lineId) ?? 0) - take);
      return [{ lineId, quantity: take }];
    });
    if (lines.length > 0) changes.push({ reservationId, lines });
  }
  if (fulfilment.kind !== "commit") return { changes, unheld: [] };
  // Where a line was last held: the newest reservation that placed it.
  const placed = new Map<string, PlacedLine>();
  for (const r of reservations) for (const l of r.lines) placed.set(l.lineId, l);
  const unheld = fulfilment.lines.flatMap(({ lineId, sku }) => {
    const quantity = left.get(lineId) ?? 0;
    const locationId = fulfilment.locationId || placed.get(lineId)?.locationId || "";
    return quantity > 0 ? [{ lineId, sku, locationId, quantity }] : [];
  });
  return { changes, unheld };
}

/**
 * Releases or commits what an order event says. The plan is made once per event and kept, so a
 * redelivery carries out the same plan (each step keyed by the event) instead of deciding again on
 * holds the first delivery already changed. Units shipped with no open hold still leave the ledger, as
 * a shipment with a stated reason: on hand may go below zero, and a shortfall is flagged.
 */
export async function applyOrderFulfilment(
  deps: ReservationDeps,
  fulfilment: OrderFulfilment,
): Promise<number> {
  const plan = await deps.reservations.planOnce(fulfilment.request.id, () =>
    planFulfilment(deps, fulfilment),
  );
  // Shipped units whose hold lapsed between the plan and its step: they leave as unheld units do.
  const lapsed: Array<FulfilmentPlan["unheld"][number] & { readonly reservationId: string }> = [];
  for (const change of plan.changes) {
    await changeReservation(deps, {
      kind: fulfilment.kind,
      request: fulfilment.request,
      reservationId: change.reservationId,
      lines: change.lines,
      reason: fulfilment.reason,
    }).catch(async (error: unknown) => {
      if (!(error instanceof ReservationClosed)) throw error;
      // The reservation closed since the plan was made (its order released it, the sweep expired it).
      // A release: nothing is held any more, which is all it asked. A refusal would be retried and
      // parked though nothing is wrong.
      if (fulfilment.kind === "release") return;
      // A commit of a hold released or expired meanwhile: the goods left all the same.
      if (error.status !== "RELEASED" && error.status !== "EXPIRED") throw error;
      const held = await deps.reservations.load(change.reservationId);
      for (const { lineId, quantity } of change.lines) {
        const line = held?.lines.find((l) => l.lineId === lineId);
        lapsed.push({
          reservationId: change.reservationId,
          lineId,
          sku: line?.sku ?? "",
          locationId: line?.locationId ?? "",
          quantity,
        });
      }
    });
  }
  const unheld = [
    ...plan.unheld.map((line) => ({
      ...line,
      movementId: `order-event:${fulfilment.request.id}:${line.lineId}`,
    })),
    ...lapsed.map((line) => ({
      ...line,
      movementId: `order-event:${fulfilment.request.id}:${line.lineId}:${line.reservationId}`,
    })),
  ];
  for (const line of unheld) {
    if (!line.locationId || !line.sku) {
      deps.logger.error(
        { orderId: fulfilment.orderId, lineId: line.lineId, sku: line.sku, quantity: line.quantity },
        "shipped units with no hold, and the event does not say which SKU left from where",
      );
      continue;
    }
    await recordMovement(
      deps,
      plainMovement({
        movementId: line.movementId,
        type: MovementType.SHIPMENT,
        sku: line.sku,
        locationId: line.locationId,
        quantity: line.quantity,
        reason: unheldShipmentReason,
        sourceSystem: "order",
        ...(fulfilment.occurTime ? { occurTime: fulfilment.occurTime } : {}),
      }),
    );
  }
  return plan.changes.length + unheld.length;
}

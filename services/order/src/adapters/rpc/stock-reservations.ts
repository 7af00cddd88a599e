import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import { BadRequestSchema, ErrorInfoSchema } from "@retail/contracts/google/rpc/error_details_pb";
import {
  FulfillmentPromise,
  type Reservation,
  ReservationStatus,
  StockShortagesSchema,
} from "@retail/contracts/retail/inventory/v1/inventory_pb";
import type { InventoryService } from "@retail/contracts/retail/inventory/v1/inventory_service_pb";
import type { StockLine, StockReservations } from "../../app/ports.js";
import type { StockRefusal } from "../../domain/acceptance.js";

function promiseOf(line: StockLine): FulfillmentPromise {
  if (line.pickup) return FulfillmentPromise.PICKUP_IN_STORE;
  return line.fromStore ? FulfillmentPromise.SHIP_FROM_STORE : FulfillmentPromise.SHIP_FROM_DC;
}

/** A reservation that has ended without being used: what it held is free again. */
const holdsNothing = (status: ReservationStatus) =>
  status === ReservationStatus.RELEASED || status === ReservationStatus.EXPIRED;

/**
 * Reserves under `requestId`. A reservation the request placed can come back holding nothing: released
 * (its placing was cut short and the placing call let it go) or expired (inventory's sweep took it,
 * left pending by a crash, or its ttl passed while the caller waited). The stock is still needed: a new
 * reservation, under a request id that follows from the lapsed one, so a retry of this step finds it.
 */
async function reserveHolding(
  reserve: (requestId: string) => Promise<{ reservation?: Reservation | undefined }>,
  requestId: string,
): Promise<Reservation | undefined> {
  let { reservation } = await reserve(requestId);
  for (let again = 0; reservation && holdsNothing(reservation.status) && again < 3; again++)
    ({ reservation } = await reserve(`${requestId}:after:${reservation.reservationId}`));
  return reservation;
}

/**
 * Inventory refusals that end an order's acceptance, read from the error's typed details (anything
 * else is retried later).
 */
function refused(error: unknown): StockRefusal | undefined {
  const connect = ConnectError.from(error);
  if (connect.code === Code.InvalidArgument) {
    const violations = connect.findDetails(BadRequestSchema)[0]?.fieldViolations ?? [];
    return {
      kind: "invalid",
      violations: violations.map((v) => ({ field: v.field, description: v.description })),
    };
  }
  if (connect.code !== Code.FailedPrecondition) return undefined;
  const shortages = connect.findDetails(StockShortagesSchema)[0]?.shortages;
  if (shortages) return { kind: "insufficient-stock", shortages };
  return {
    kind: "refused",
    reason: connect.findDetails(ErrorInfoSchema)[0]?.reason ?? Code[connect.code] ?? "",
  };
}

/**
 * Stock for orders through inventory, with request ids derived from the order so retries hold once.
 * A reservation holds for `pendingHoldMs` while the order is being accepted, and is confirmed (held
 * until its lines ship, are picked up or are cancelled) before the order is accepted.
 */
export function createStockReservations(
  client: Client<typeof InventoryService>,
  options: { pendingHoldMs: number },
): StockReservations {
  const holdFor = durationFromMs(options.pendingHoldMs);
  const confirm = async (reservationId: string) => {
    await client.confirmReservation({ requestId: `confirm:${reservationId}`, reservationId });
  };
  return {
    async reserve(orderId, channel, channelId, lines) {
      // One reservation per kind of promise (ship from DC, from store, pickup): each needs other locations.
      const groups = new Map<FulfillmentPromise, StockLine[]>();
      for (const line of lines) {
        const promise = channelId ? promiseOf(line) : FulfillmentPromise.UNSPECIFIED;
        groups.set(promise, [...(groups.get(promise) ?? []), line]);
      }
      const reservationIds: string[] = [];
      for (const [promise, group] of groups) {
        try {
          const reserve = (requestId: string) =>
            client.reserveStock({
              requestId,
              orderId,
              lines: group.map((l) => ({
                lineId: l.lineId,
                sku: l.sku,
                quantity: l.quantity,
                locationId: l.locationId,
              })),
              channel,
              channelId,
              promise,
              ttl: holdFor,
            });
          const reservation = await reserveHolding(reserve, `order:${orderId}:reserve:${promise}`);
          if (reservation) {
            await confirm(reservation.reservationId);
            reservationIds.push(reservation.reservationId);
          }
        } catch (error) {
          const refusal = refused(error);
          if (refusal === undefined) throw error;
          return { refused: refusal };
        }
      }
      return { reservationIds };
    },

    async holdOf(order, lineId) {
      for (const reservationId of order.reservationIds) {
        const { reservation } = await client.getReservation({ reservationId });
        const held = reservation?.lines.find((l) => l.lineId === lineId);
        const remaining = held ? held.quantity - held.committedQuantity - held.releasedQuantity : 0n;
        if (held && remaining > 0n) return { reservationId, locationId: held.locationId, remaining };
      }
      return undefined;
    },

    async availability(sku, channelId) {
      const { availability } = await client.getAvailability({ sku, channelId });
      return availability.map((a) => ({ locationId: a.locationId, available: a.available }));
    },

    async move(requestId, order, line, hold, toLocationId) {
      await client.releaseReservation({
        requestId: `${requestId}:release:${line.lineId}`,
        reservationId: hold.reservationId,
        lines: [{ lineId: line.lineId, quantity: hold.remaining }],
        reason: `could not be picked at ${hold.locationId}`,
      });
      if (!toLocationId) return undefined;
      try {
        const moved = await reserveHolding(
          (id) =>
            client.reserveStock({
              requestId: id,
              orderId: order.orderId,
              lines: [
                { lineId: line.lineId, sku: line.sku, quantity: hold.remaining, locationId: toLocationId },
              ],
              channel: order.channel,
              ttl: holdFor,
            }),
          `${requestId}:resource:${line.lineId}`,
        );
        if (!moved) return undefined;
        await confirm(moved.reservationId);
        return moved.reservationId;
      } catch (error) {
        if (refused(error) === undefined) throw error;
        return undefined;
      }
    },
  };
}

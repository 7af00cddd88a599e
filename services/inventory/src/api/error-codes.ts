import { create } from "@bufbuild/protobuf";
import { Code, type ConnectError } from "@connectrpc/connect";
import { StockShortagesSchema } from "@retail/contracts/retail/inventory/v1/inventory_pb";
import { errorWithInfo } from "@retail/platform/rpc";
import {
  HoldExceeded,
  InsufficientStock,
  LineQuantityExceeded,
  NegativeStock,
  ReservationBeingPlaced,
  ReservationClosed,
  UnknownReservation,
} from "../domain/errors.js";

/** Inventory's domain errors as callers see them: a code, an ErrorInfo reason and the facts. */
export function mapInventoryError(error: unknown): ConnectError | undefined {
  if (error instanceof InsufficientStock) {
    const metadata: Record<string, string> = {};
    error.shortages.forEach((s, i) => {
      metadata[`shortage_${i}`] =
        `${s.sku}@${s.locationId || "*"} requested=${s.requested} available=${s.available}`;
    });
    metadata.skus = [...new Set(error.shortages.map((s) => s.sku))].join(",");
    const refused = errorWithInfo(Code.FailedPrecondition, "INSUFFICIENT_STOCK", error.message, metadata);
    refused.details.push({
      desc: StockShortagesSchema,
      value: create(StockShortagesSchema, {
        shortages: error.shortages.map((s) => ({
          sku: s.sku,
          locationId: s.locationId,
          requested: BigInt(s.requested),
          available: BigInt(s.available),
        })),
      }),
    });
    return refused;
  }
  if (error instanceof UnknownReservation) {
    return errorWithInfo(Code.NotFound, "RESERVATION_NOT_FOUND", error.message, {
      reservation_id: error.reservationId,
    });
  }
  if (error instanceof HoldExceeded || error instanceof LineQuantityExceeded) {
    return errorWithInfo(Code.FailedPrecondition, "RESERVATION_QUANTITY_EXCEEDED", error.message, {
      reservation_id: error.reservationId,
      line_id: error.lineId,
      requested: String(error.requested),
    });
  }
  if (error instanceof ReservationBeingPlaced) {
    return errorWithInfo(Code.Unavailable, "RESERVATION_BEING_PLACED", error.message, {
      reservation_id: error.reservationId,
    });
  }
  if (error instanceof ReservationClosed) {
    return errorWithInfo(Code.FailedPrecondition, "RESERVATION_CLOSED", error.message, {
      reservation_id: error.reservationId,
      status: error.status,
    });
  }
  if (error instanceof NegativeStock) {
    return errorWithInfo(Code.FailedPrecondition, "NEGATIVE_STOCK", error.message, {
      sku: error.sku,
      location_id: error.locationId,
      current: String(error.current),
    });
  }
  return undefined;
}

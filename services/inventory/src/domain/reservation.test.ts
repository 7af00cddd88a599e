import { ReservationStatus } from "@retail/contracts/retail/inventory/v1/inventory_pb";
import { describe, expect, it } from "vitest";
import { LineQuantityExceeded, ReservationClosed } from "./errors.js";
import { applyLineChange, decideLineChange, type ReservationState, statusAfter } from "./reservation.js";

const reservation = (status = ReservationStatus.ACTIVE): ReservationState => ({
  reservationId: "r1",
  orderId: "o1",
  status,
  lines: [
    { lineId: "1", sku: "A", locationId: "DC-1", quantity: 3, committed: 0, released: 0 },
    { lineId: "2", sku: "B", locationId: "DC-1", quantity: 2, committed: 0, released: 0 },
  ],
  expireTime: new Date(0),
  createTime: new Date(0),
  channel: 0,
  releaseReason: "",
  heldUntilFulfilled: false,
  shortages: [],
  version: 2,
});

describe("reservation", () => {
  it("takes everything still held when no lines are named", () => {
    expect(decideLineChange(reservation(), [])).toEqual([
      { lineId: "1", quantity: 3 },
      { lineId: "2", quantity: 2 },
    ]);
  });

  it("commits a split shipment line by line and derives the status", () => {
    const first = applyLineChange(reservation().lines, [{ lineId: "1", quantity: 2 }], "committed");
    expect(statusAfter(first, ReservationStatus.RELEASED)).toBe(ReservationStatus.PARTIALLY_COMMITTED);
    const rest = applyLineChange(
      first,
      decideLineChange({ ...reservation(), lines: first }, []),
      "committed",
    );
    expect(statusAfter(rest, ReservationStatus.RELEASED)).toBe(ReservationStatus.COMMITTED);
  });

  it("ends released when a partial release takes what was left", () => {
    const lines = applyLineChange(reservation().lines, [{ lineId: "1", quantity: 3 }], "released");
    expect(statusAfter(lines, ReservationStatus.RELEASED)).toBe(ReservationStatus.ACTIVE);
    const all = applyLineChange(lines, [{ lineId: "2", quantity: 2 }], "released");
    expect(statusAfter(all, ReservationStatus.RELEASED)).toBe(ReservationStatus.RELEASED);
  });

  it("refuses more than a line has left, an unknown line, and a closed reservation", () => {
    expect(() => decideLineChange(reservation(), [{ lineId: "1", quantity: 4 }])).toThrow(
      LineQuantityExceeded,
    );
    expect(() => decideLineChange(reservation(), [{ lineId: "9", quantity: 1 }])).toThrow(
      LineQuantityExceeded,
    );
    expect(() => decideLineChange(reservation(ReservationStatus.EXPIRED), [])).toThrow(ReservationClosed);
  });
});

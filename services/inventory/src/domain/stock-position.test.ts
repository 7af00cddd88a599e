import { MovementType } from "@retail/contracts/retail/inventory/v1/inventory_pb";
import { describe, expect, it } from "vitest";
import { HoldExceeded, InsufficientStock, NegativeStock } from "./errors.js";
import {
  availableOf,
  decideMovement,
  emptyPosition,
  type Movement,
  type PositionState,
} from "./stock-position.js";

const at = (changes: Partial<PositionState> = {}): PositionState => ({
  ...emptyPosition("SKU-1", "DC-1"),
  ...changes,
});
const move = (type: MovementType, quantity: number, extra: Partial<Movement> = {}): Movement => ({
  movementId: "m",
  type,
  sku: "SKU-1",
  locationId: "DC-1",
  quantity,
  counterpartLocationId: "",
  reservationId: "",
  lineId: "",
  reason: "",
  ...extra,
});

describe("stock position", () => {
  it("derives available as on hand - reserved - damaged - safety stock, never below zero", () => {
    expect(availableOf(at({ onHand: 10, reserved: 3, damaged: 2, safetyStock: 1 }))).toBe(4);
    expect(availableOf(at({ onHand: 2, reserved: 3 }))).toBe(0);
  });

  it("applies each physical movement type to the right states", () => {
    const after = (state: PositionState, m: Movement) => decideMovement(state, m).after;
    expect(after(at(), move(MovementType.GOODS_RECEIPT, 10)).onHand).toBe(10);
    expect(after(at({ onHand: 10 }), move(MovementType.SHIPMENT, 4)).onHand).toBe(6);
    expect(after(at({ onHand: 10 }), move(MovementType.PICK_CONFIRMATION, 4)).onHand).toBe(6);
    expect(after(at({ onHand: 10 }), move(MovementType.RETURN_TO_SELLABLE, 1)).onHand).toBe(11);
    expect(after(at({ onHand: 10 }), move(MovementType.RETURN_TO_DAMAGED, 1))).toMatchObject({
      onHand: 11,
      damaged: 1,
    });
    expect(after(at({ onHand: 10 }), move(MovementType.DAMAGE, 3))).toMatchObject({ onHand: 10, damaged: 3 });
    expect(after(at({ onHand: 10, damaged: 3 }), move(MovementType.WRITE_OFF, 2))).toMatchObject({
      onHand: 8,
      damaged: 1,
    });
    expect(after(at({ onHand: 10 }), move(MovementType.SAFETY_STOCK_SET, 2)).safetyStock).toBe(2);
    expect(
      after(at({ onHand: 10 }), move(MovementType.TRANSFER_OUT, 4, { counterpartLocationId: "ST-1" })).onHand,
    ).toBe(6);
  });

  it("moves in-transit stock at the receiving end of a transfer", () => {
    const store = emptyPosition("SKU-1", "ST-1");
    const dispatched = decideMovement(
      store,
      move(MovementType.TRANSFER_OUT, 4, { counterpartLocationId: "ST-1" }),
    ).after;
    expect(dispatched).toMatchObject({ onHand: 0, inTransit: 4 });
    const received = decideMovement(
      dispatched,
      move(MovementType.TRANSFER_IN, 4, { locationId: "ST-1", counterpartLocationId: "DC-1" }),
    ).after;
    expect(received).toMatchObject({ onHand: 4, inTransit: 0 });
  });

  it("records the difference a cycle count finds", () => {
    const decision = decideMovement(at({ onHand: 10 }), move(MovementType.CYCLE_COUNT, 7));
    expect(decision.after.onHand).toBe(7);
    expect(decision.onHandDelta).toBe(-3);
  });

  it("refuses a reservation larger than the available quantity, with the numbers", () => {
    expect(() =>
      decideMovement(
        at({ onHand: 5, safetyStock: 1 }),
        move(MovementType.RESERVATION, 5, { reservationId: "r", lineId: "1" }),
      ),
    ).toThrow(new InsufficientStock([{ sku: "SKU-1", locationId: "DC-1", requested: 5, available: 4 }]));
  });

  it("holds, commits and releases per reservation line, never beyond what the line holds", () => {
    const line = { reservationId: "r1", lineId: "1" };
    const held = decideMovement(at({ onHand: 10 }), move(MovementType.RESERVATION, 4, line)).after;
    expect(held).toMatchObject({ reserved: 4, holds: { "r1/1": 4 } });
    const committed = decideMovement(held, move(MovementType.RESERVATION_COMMIT, 1, line)).after;
    expect(committed).toMatchObject({ onHand: 9, reserved: 3, holds: { "r1/1": 3 } });
    const released = decideMovement(committed, move(MovementType.RESERVATION_RELEASE, 3, line)).after;
    expect(released).toMatchObject({ onHand: 9, reserved: 0, holds: {} });
    expect(() => decideMovement(committed, move(MovementType.RESERVATION_RELEASE, 4, line))).toThrow(
      HoldExceeded,
    );
  });

  it("refuses to take on hand below zero unless the movement states a reason", () => {
    expect(() => decideMovement(at({ onHand: 2 }), move(MovementType.SHIPMENT, 3))).toThrow(NegativeStock);
    const forced = decideMovement(
      at({ onHand: 2 }),
      move(MovementType.SHIPMENT, 3, { reason: "WMS shipped before receipt" }),
    );
    expect(forced.after.onHand).toBe(-1);
  });

  it("flags reservations that no longer fit after a cycle count reveals shrinkage", () => {
    const state = at({ onHand: 10, reserved: 6, holds: { "r1/1": 4, "r2/1": 2 } });
    const decision = decideMovement(state, move(MovementType.CYCLE_COUNT, 5));
    expect(decision.after).toMatchObject({ onHand: 5, reserved: 6 });
    expect(availableOf(decision.after)).toBe(0);
    expect(decision.newShortfall).toEqual({ units: 1, reservationIds: ["r1", "r2"] });
    expect(decideMovement(state, move(MovementType.CYCLE_COUNT, 8)).newShortfall).toBeUndefined();
  });
});

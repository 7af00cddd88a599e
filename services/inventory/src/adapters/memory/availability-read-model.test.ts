import { describe, expect, it } from "vitest";
import type { PositionView } from "../../app/ports.js";
import { AvailabilityReadModel } from "./availability-read-model.js";

const position = (sku: string, onHand: number, version: number): PositionView => ({
  sku,
  locationId: "DC-1",
  onHand,
  reserved: 0,
  inTransit: 0,
  damaged: 0,
  safetyStock: 0,
  version,
});

describe("rebuilding the availability read model", () => {
  it("replaces what the ledger disagrees with, even ahead of it, and keeps what events applied while it read", async () => {
    const model = new AvailabilityReadModel();
    model.apply(position("A", 999, 1_000)); // ahead of the ledger: wrong
    model.apply(position("B", 5, 2)); // right
    model.apply(position("GHOST", 3, 1)); // not in the ledger at all
    const changed = await model.rebuild(async () => {
      // Events arriving while the ledger is read.
      model.apply(position("B", 6, 3));
      model.apply(position("NEW", 1, 1));
      return [position("A", 7, 4), position("B", 5, 2)];
    });
    expect([
      model.available("A", "DC-1"),
      model.available("B", "DC-1"),
      model.available("NEW", "DC-1"),
    ]).toEqual([7, 6, 1]);
    expect(model.get("GHOST", "DC-1")).toBeUndefined();
    // Changed by the rebuild: A corrected and GHOST dropped (B and NEW stand as the events left them).
    expect(changed).toBe(2);
    // Applying stays version-checked after the rebuild.
    expect(model.apply(position("A", 8, 4))).toBe(false);
  });
});

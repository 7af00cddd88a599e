import { describe, expect, it } from "vitest";
import { chooseResourceLocation } from "./resourcing.js";

describe("re-sourcing a line a location could not pick", () => {
  const hold = { reservationId: "r-1", locationId: "ST-1", remaining: 2n };

  it("goes to the other location with the most available that can take it all", () => {
    const stock = [
      { locationId: "ST-1", available: 9n },
      { locationId: "ST-2", available: 2n },
      { locationId: "DC-1", available: 5n },
      { locationId: "", available: 16n }, // the channel's total, not a location
    ];
    expect(chooseResourceLocation(hold, stock)).toBe("DC-1");
  });

  it("goes nowhere when no other location has enough", () => {
    expect(chooseResourceLocation(hold, [{ locationId: "ST-2", available: 1n }])).toBeUndefined();
  });
});

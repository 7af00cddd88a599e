import { FulfillmentPromise, LocationType } from "@retail/contracts/retail/inventory/v1/inventory_pb";
import { describe, expect, it } from "vitest";
import { channelAvailable, chooseLocations, locationsForPromise } from "./channels.js";

describe("channels", () => {
  it("withholds a channel's buffer at each location, never below zero", () => {
    const rule = { channelId: "amazon-us", channel: 4, locationIds: ["DC-1"], bufferUnits: 2, promises: [] };
    expect(channelAvailable(rule, 5)).toBe(3);
    expect(channelAvailable(rule, 1)).toBe(0);
  });

  it("narrows a channel's locations to those that keep the promise asked for", () => {
    const rule = {
      channelId: "web",
      channel: 1,
      locationIds: ["DC-1", "ST-1", "WH-1"],
      bufferUnits: 0,
      promises: [FulfillmentPromise.SHIP_FROM_DC, FulfillmentPromise.PICKUP_IN_STORE],
    };
    const types: Record<string, LocationType> = {
      "DC-1": LocationType.DISTRIBUTION_CENTER,
      "ST-1": LocationType.STORE,
      "WH-1": LocationType.WAREHOUSE,
    };
    const typeOf = (id: string) => types[id];
    expect(locationsForPromise(rule, FulfillmentPromise.SHIP_FROM_DC, typeOf)).toEqual(["DC-1", "WH-1"]);
    expect(locationsForPromise(rule, FulfillmentPromise.PICKUP_IN_STORE, typeOf)).toEqual(["ST-1"]);
    expect(locationsForPromise(rule, FulfillmentPromise.SHIP_FROM_STORE, typeOf)).toBeUndefined();
    expect(locationsForPromise(rule, FulfillmentPromise.UNSPECIFIED, typeOf)).toEqual([
      "DC-1",
      "ST-1",
      "WH-1",
    ]);
  });

  it("prefers one location that can fulfil every line, else the best per line", () => {
    const stock: Record<string, number> = {
      "A@DC-1": 5,
      "B@DC-1": 0,
      "A@ST-1": 2,
      "B@ST-1": 2,
      "A@ST-2": 9,
      "B@ST-2": 1,
    };
    const availableAt = (sku: string, loc: string) => stock[`${sku}@${loc}`] ?? 0;
    const together = chooseLocations(
      [
        { sku: "A", quantity: 2 },
        { sku: "B", quantity: 1 },
      ],
      ["DC-1", "ST-1", "ST-2"],
      availableAt,
    );
    expect(together.map((c) => c.locationIds[0])).toEqual(["ST-1", "ST-1"]);
    const split = chooseLocations(
      [
        { sku: "A", quantity: 6 },
        { sku: "B", quantity: 2 },
      ],
      ["DC-1", "ST-1", "ST-2"],
      availableAt,
    );
    expect(split.map((c) => c.locationIds[0])).toEqual(["ST-2", "ST-1"]);
  });
});

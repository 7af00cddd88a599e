import { describe, expect, it } from "vitest";
import {
  eventFacts,
  factsComplete,
  factsMatch,
  patternProblem,
  topicMatches,
  typeMatches,
  withAggregateFacts,
} from "./filter.js";

const none = { eventTypes: [], channels: [], channelIds: [], locationIds: [] };

describe("topic matching", () => {
  it("reads * as one word and # as zero or more, as RabbitMQ does", () => {
    expect(topicMatches("order.*", "order.order_accepted")).toBe(true);
    expect(topicMatches("order.*", "order")).toBe(false);
    expect(topicMatches("order.*", "inventory.stock_reserved")).toBe(false);
    expect(topicMatches("#", "order.order_accepted")).toBe(true);
    expect(topicMatches("order.#", "order")).toBe(true);
    expect(topicMatches("*.order_accepted", "order.order_accepted")).toBe(true);
    expect(topicMatches("order.#.x", "order.a.b.x")).toBe(true);
    expect(topicMatches("order.order_accepted", "order.order_accepted_late")).toBe(false);
  });

  it("takes a CloudEvents type for exactly that type", () => {
    const filter = { ...none, eventTypes: ["retail.order.v1.OrderAccepted"] };
    expect(typeMatches(filter, "order.order_accepted", "retail.order.v1.OrderAccepted")).toBe(true);
    expect(typeMatches(filter, "order.order_rejected", "retail.order.v1.OrderRejected")).toBe(false);
  });

  it("refuses patterns that are neither a routing-key pattern nor a type", () => {
    expect(patternProblem("order.*")).toBeUndefined();
    expect(patternProblem("retail.order.v1.OrderAccepted")).toBeUndefined();
    for (const bad of ["order.**", "Order.accepted", "order..x", "", "order accepted"])
      expect(patternProblem(bad), bad).toBeDefined();
  });
});

describe("event facts", () => {
  const accepted = {
    order: {
      orderId: "o1",
      channel: "CHANNEL_MARKETPLACE",
      channelId: "amazon-us",
      customerId: "c1",
      lines: [{ fulfillmentLocationId: "DC-1" }, { fulfillmentLocationId: "ST-2" }],
    },
  };

  it("collects channels, channel ids, locations and customers at any depth", () => {
    expect(eventFacts(accepted)).toEqual({
      channels: ["CHANNEL_MARKETPLACE"],
      channelIds: ["amazon-us"],
      locationIds: ["DC-1", "ST-2"],
      declared: ["channels", "channelIds", "locationIds"],
      customerIds: ["c1"],
    });
  });

  it("takes a field present but empty as the event saying it has none, not as a fact to ask its aggregate for", () => {
    // A stock change's raw figure, read with the fields' defaults: no channel id, but it has the field.
    const raw = eventFacts({
      availability: { sku: "A", locationId: "DC-1", channelId: "", channel: "CHANNEL_UNSPECIFIED" },
    });
    expect([raw.channels, raw.channelIds, raw.declared]).toEqual([
      [],
      [],
      ["locationIds", "channelIds", "channels"],
    ]);
    const before = { channels: [], channelIds: ["amazon-us"], locationIds: ["DC-1"] };
    const filter = { ...none, channelIds: ["amazon-us"] };
    const completed = withAggregateFacts(raw, before);
    expect(completed.channelIds).toEqual([]);
    expect([factsComplete(filter, completed), factsMatch(filter, completed)]).toEqual([true, false]);
    // An event without the field (a line cancelled) still takes its aggregate's.
    const cancelled = eventFacts({ orderId: "o1", lineId: "1" });
    expect(withAggregateFacts(cancelled, before).channelIds).toEqual(["amazon-us"]);
    expect(factsComplete(filter, cancelled)).toBe(false);
  });

  it("matches a filter only when every part that is set overlaps", () => {
    const facts = eventFacts(accepted);
    expect(factsMatch({ ...none, channels: ["CHANNEL_MARKETPLACE"] }, facts)).toBe(true);
    expect(factsMatch({ ...none, channels: ["CHANNEL_WEB"] }, facts)).toBe(false);
    expect(factsMatch({ ...none, channels: ["CHANNEL_MARKETPLACE"], locationIds: ["ST-9"] }, facts)).toBe(
      false,
    );
    expect(factsMatch({ ...none, locationIds: ["ST-2"] }, facts)).toBe(true);
  });

  it("completes an event's facts with its aggregate's, its own first", () => {
    const before = { channels: ["CHANNEL_WEB"], channelIds: ["web"], locationIds: ["DC-1"] };
    expect(withAggregateFacts({ channels: [], channelIds: [], locationIds: ["ST-1"] }, before)).toEqual({
      channels: ["CHANNEL_WEB"],
      channelIds: ["web"],
      locationIds: ["ST-1", "DC-1"],
      declared: [],
    });
    expect(
      withAggregateFacts({ channels: ["CHANNEL_POS"], channelIds: [], locationIds: [] }, before).channels,
    ).toEqual(["CHANNEL_POS"]);
  });
});

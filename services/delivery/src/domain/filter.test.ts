import { describe, expect, it } from "vitest";
import {
  eventFacts,
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
      customerIds: ["c1"],
    });
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
    });
    expect(
      withAggregateFacts({ channels: ["CHANNEL_POS"], channelIds: [], locationIds: [] }, before).channels,
    ).toEqual(["CHANNEL_POS"]);
  });
});

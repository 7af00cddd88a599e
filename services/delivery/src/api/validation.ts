import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import {
  DeliveryFormat,
  type Subscription,
  SubscriptionState,
} from "@retail/contracts/retail/delivery/v1/delivery_pb";
import { Violations } from "@retail/platform/rpc";
import { endpointUrlProblem } from "../domain/endpoint-url.js";
import { patternProblem } from "../domain/filter.js";
import type { SubscriptionSettings } from "../domain/subscription.js";

const subscriptionId = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const maxPageSize = 500;

export function checkSubscriptionId(v: Violations, field: string, id: string): void {
  if (v.require(field, id) && !subscriptionId.test(id))
    v.add(field, "must be 1-63 lowercase letters, digits and '-', starting with a letter or digit");
}

/** The settings a create or update asks for, every rule checked at once. */
export function checkSubscription(
  v: Violations,
  subscription: Subscription | undefined,
): SubscriptionSettings {
  if (!subscription) {
    v.add("subscription", "is required");
    return {
      subscriptionId: "",
      url: "",
      description: "",
      filter: undefined,
      state: 0,
      maxPerSecond: 0,
      format: 0,
      x12: undefined,
    };
  }
  const s = subscription;
  checkSubscriptionId(v, "subscription.subscription_id", s.subscriptionId);
  if (v.require("subscription.url", s.url)) {
    const problem = endpointUrlProblem(s.url);
    if (problem) v.add("subscription.url", problem);
  }
  if (s.description.length > 500) v.add("subscription.description", "must be at most 500 characters");
  if (!(s.state in SubscriptionState)) v.add("subscription.state", "is not a subscription state");
  if (s.maxPerSecond < 0 || s.maxPerSecond > 1000)
    v.add("subscription.max_per_second", "must be 0-1000 (0: 10)");
  const filter = s.filter;
  if (!filter || filter.eventTypes.length === 0) {
    v.add("subscription.filter.event_types", "is required: at least one routing-key pattern or event type");
  }
  filter?.eventTypes.forEach((pattern, i) => {
    const problem = patternProblem(pattern);
    if (problem) v.add(`subscription.filter.event_types[${i}]`, problem);
  });
  filter?.channels.forEach((channel, i) => {
    if (channel === Channel.UNSPECIFIED || !(channel in Channel))
      v.add(`subscription.filter.channels[${i}]`, "must be a channel such as CHANNEL_WEB");
  });
  filter?.channelIds.forEach((id, i) => {
    if (!id) v.add(`subscription.filter.channel_ids[${i}]`, "must not be empty");
  });
  filter?.locationIds.forEach((id, i) => {
    if (!id) v.add(`subscription.filter.location_ids[${i}]`, "must not be empty");
  });
  if (!(s.format in DeliveryFormat)) v.add("subscription.format", "is not a delivery format");
  if (s.format === DeliveryFormat.X12_940) checkWarehouseOrders(v, s);
  return {
    subscriptionId: s.subscriptionId,
    url: s.url,
    description: s.description,
    filter: s.filter,
    state: s.state,
    maxPerSecond: s.maxPerSecond,
    format: s.format,
    x12: s.x12,
  };
}

const x12Id = /^[A-Za-z0-9 ]{1,15}$/;
const x12Qualifier = /^[0-9A-Z]{2}$/;
const acceptedOrders = new Set(["order.order_accepted", "retail.order.v1.OrderAccepted"]);

/** A 940 subscription names its parties, its warehouse's locations, and takes accepted orders alone. */
function checkWarehouseOrders(v: Violations, s: Subscription): void {
  const parties = s.x12;
  if (!parties)
    v.add("subscription.x12", "is required for DELIVERY_FORMAT_X12_940: the interchange's parties");
  for (const [field, value, rule] of [
    ["sender_qualifier", parties?.senderQualifier, x12Qualifier],
    ["sender_id", parties?.senderId, x12Id],
    ["receiver_qualifier", parties?.receiverQualifier, x12Qualifier],
    ["receiver_id", parties?.receiverId, x12Id],
  ] as const)
    if (parties && !rule.test(value ?? ""))
      v.add(
        `subscription.x12.${field}`,
        rule === x12Id
          ? "must be 1-15 letters, digits or spaces"
          : "must be two capitals or digits (ISA05/07: ZZ, 01, 12 …)",
      );
  if ((s.filter?.locationIds.length ?? 0) === 0)
    v.add(
      "subscription.filter.location_ids",
      "is required for DELIVERY_FORMAT_X12_940: the warehouse's locations",
    );
  s.filter?.eventTypes.forEach((type, i) => {
    if (!acceptedOrders.has(type))
      v.add(
        `subscription.filter.event_types[${i}]`,
        "must be order.order_accepted for DELIVERY_FORMAT_X12_940",
      );
  });
}

export const pageLimits = { max: maxPageSize, default: 50 };

export { Violations };

import { create } from "@bufbuild/protobuf";
import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import { SubscriptionSchema, SubscriptionState } from "@retail/contracts/retail/delivery/v1/delivery_pb";
import { describe, expect, it } from "vitest";
import { bindingsFor } from "./bindings.js";

const subscription = (
  eventTypes: string[],
  extra: { channels?: Channel[]; state?: SubscriptionState } = {},
) =>
  create(SubscriptionSchema, {
    subscriptionId: "s",
    state: extra.state ?? SubscriptionState.ACTIVE,
    filter: { eventTypes, channels: extra.channels ?? [] },
  });

describe("the queue's bindings", () => {
  it("are the erasures alone without subscriptions", () => {
    expect(bindingsFor([])).toEqual(["customer.customer_erased"]);
  });

  it("follow the recording subscriptions' patterns, a type as its routing key", () => {
    expect(
      bindingsFor([
        subscription(["order.shipment_dispatched", "retail.finance.v1.JournalEntryPosted"]),
        subscription(["inventory.#"], { state: SubscriptionState.PAUSED }),
        subscription(["customer.#"], { state: SubscriptionState.DELETED }),
      ]),
    ).toEqual([
      "customer.customer_erased",
      "finance.journal_entry_posted",
      "inventory.#",
      "order.shipment_dispatched",
    ]);
  });

  it("take every event of a domain a channel or location filter names, for its facts", () => {
    expect(bindingsFor([subscription(["order.order_line_cancelled"], { channels: [Channel.WEB] })])).toEqual([
      "customer.customer_erased",
      "order.#",
      "order.order_line_cancelled",
    ]);
    expect(bindingsFor([subscription(["*.x"], { channels: [Channel.WEB] })])).toContain("#");
  });
});

// Personal data follows erasure into delivery's copies: a customer's erasure empties the personal
// fields of their events stored for subscribers (delivered or not), so a replay from a point in time
// sends the events without them.
import { create, fromBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import { CustomerErasedSchema } from "@retail/contracts/retail/customer/v1/customer_events_pb";
import { OrderAcceptedSchema } from "@retail/contracts/retail/order/v1/order_events_pb";
import { testMongoUrl, uniqueName, until } from "@retail/platform/testing";
import { Binary, MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEmitter, type DeliveryHarness, startDelivery, startReceiver } from "./harness.js";

let delivery: DeliveryHarness;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let orders: ReturnType<typeof createEmitter>;
let customers: ReturnType<typeof createEmitter>;
beforeAll(async () => {
  // The sweep runs every 3 s here: a lost write is seen going out redacted before the sweep mends it.
  delivery = await startDelivery("erasure", { DELIVERY_ERASURE_SWEEP_MS: "3000" });
  orders = createEmitter(delivery.exchange, "order");
  customers = createEmitter(delivery.exchange, "customer-identity");
  receiver = await startReceiver();
}, 60_000);
afterAll(async () => {
  await orders?.close();
  await customers?.close();
  await receiver?.stop();
  await delivery?.stop();
});

describe("erasure in delivery", () => {
  it("empties an erased customer's personal fields in stored deliveries, so a replay sends them without", async () => {
    const subscriptionId = uniqueName("sub").replaceAll("_", "-");
    const endpoint = receiver.endpoint(subscriptionId);
    const { signingSecret } = await delivery.client.createSubscription({
      requestId: subscriptionId,
      subscription: { subscriptionId, url: endpoint.url, filter: { eventTypes: ["order.#"] } },
    });
    await endpoint.control({ mode: "ok", secrets: [signingSecret] });
    const since = new Date();
    const customerId = uniqueName("cust");
    const orderId = uniqueName("o");
    const address = {
      lines: ["1 Main St"],
      locality: "Springfield",
      postalCode: "12345",
      regionCode: "US",
      recipient: "Ann Smith",
    };
    await orders.emit(
      `order:${orderId}`,
      OrderAcceptedSchema,
      create(OrderAcceptedSchema, { order: { orderId, customerId, channel: Channel.WEB, shipTo: address } }),
    );
    await until(async () => {
      const [first] = await endpoint.received();
      expect(first?.body.data).toMatchObject({
        order: { shipTo: { recipient: "Ann Smith", locality: "Springfield" } },
      });
    });
    const [before] = (await delivery.running.deps.deliveries.list(subscriptionId, undefined, 10, ""))
      .deliveries;
    await customers.emit(
      `customer:${customerId}`,
      CustomerErasedSchema,
      create(CustomerErasedSchema, { customerId, reason: "GDPR art. 17" }),
    );
    // The stored copy loses its personal fields once the erasure is handled.
    await until(
      async () => {
        const { deliveries } = await delivery.running.deps.deliveries.list(subscriptionId, undefined, 10, "");
        const stored = fromBinary(OrderAcceptedSchema, deliveries[0]?.data ?? new Uint8Array()).order;
        expect([stored?.shipTo?.recipient, stored?.shipTo?.locality, stored?.customerId]).toEqual([
          "",
          "",
          customerId,
        ]);
      },
      { timeout: 30_000, interval: 200 },
    );
    // A replay from before the order sends it without them.
    const replayed = await delivery.client.replayDeliveries({
      requestId: uniqueName("replay"),
      subscriptionId,
      since: timestampFromDate(since),
    });
    expect(replayed.count).toBe(1);
    await until(async () => {
      const received = await endpoint.received();
      expect(received).toHaveLength(2);
      const last = received.at(-1)?.body.data as {
        order: { shipTo: Record<string, unknown>; customerId: string };
      };
      expect(last.order.shipTo).toEqual({ regionCode: "US" });
      expect(last.order.customerId).toBe(customerId);
    });
    // A write lost on FerretDB (the dispatcher's update putting the old fields back) does not undo it:
    // the copy goes out redacted all the same, and the sweep erases the stored copy again.
    const mongo = await new MongoClient(testMongoUrl()).connect();
    try {
      await mongo
        .db(delivery.database)
        .collection<{ _id: string }>("deliveries")
        .updateOne(
          { _id: before?.deliveryId ?? "" },
          { $set: { data: new Binary(before?.data ?? new Uint8Array()), customerIds: [customerId] } },
        );
    } finally {
      await mongo.close();
    }
    await delivery.client.replayDeliveries({
      requestId: uniqueName("replay"),
      subscriptionId,
      since: timestampFromDate(since),
    });
    await until(async () => {
      const received = await endpoint.received();
      expect(received).toHaveLength(3);
      const last = received.at(-1)?.body.data as { order: { shipTo: Record<string, unknown> } };
      expect(last.order.shipTo).toEqual({ regionCode: "US" });
    });
    await until(async () => {
      const { deliveries } = await delivery.running.deps.deliveries.list(subscriptionId, undefined, 10, "");
      const stored = fromBinary(OrderAcceptedSchema, deliveries[0]?.data ?? new Uint8Array()).order;
      expect(stored?.shipTo?.recipient).toBe("");
    });
    const all = await endpoint.received();
    expect(all.every((r) => r.verified)).toBe(true);
    expect(new Set(all.map((r) => r.id)).size).toBe(1);
  });
});

// Outbound delivery end to end on real MongoDB-compatible storage and RabbitMQ: domain events published
// as the services publish them reach a real HTTP receiver process, signed (verified there by the
// `standardwebhooks` verifier), in order per aggregate, through failures, hangs, dead letters, replay,
// a secret rotation and a restart of the delivery service.

import { fileURLToPath } from "node:url";
import { create } from "@bufbuild/protobuf";
import { durationFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import {
  DeliveryFormat,
  DeliveryState,
  SubscriptionState,
} from "@retail/contracts/retail/delivery/v1/delivery_pb";
import { DeliveryService } from "@retail/contracts/retail/delivery/v1/delivery_service_pb";
import { AvailabilityChangedSchema } from "@retail/contracts/retail/inventory/v1/inventory_events_pb";
import {
  OrderAcceptedSchema,
  OrderLineCancelledSchema,
  ShipmentDispatchedSchema,
} from "@retail/contracts/retail/order/v1/order_events_pb";
import { FulfillmentType } from "@retail/contracts/retail/order/v1/order_pb";
import { startServiceOnFreePorts } from "@retail/platform/processes";
import {
  dropTestDatabases,
  rejection,
  testMongoUrl,
  testServiceEnv,
  uniqueName,
  until,
  violatedFields,
} from "@retail/platform/testing";
import { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createEmitter,
  type DeliveryHarness,
  type ReceiverEndpoint,
  startDelivery,
  startReceiver,
  testDeliveryEnv,
} from "./harness.js";

let delivery: DeliveryHarness;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let emitter: ReturnType<typeof createEmitter>;
beforeAll(async () => {
  delivery = await startDelivery("outbound");
  emitter = createEmitter(delivery.exchange);
  receiver = await startReceiver();
}, 60_000);
afterAll(async () => {
  await emitter?.close();
  await receiver?.stop();
  await delivery?.stop();
});

const accepted = (orderId: string, channel = Channel.WEB) =>
  create(OrderAcceptedSchema, {
    order: { orderId, channel, channelId: `${Channel[channel].toLowerCase()}-1` },
  });
const shipped = (orderId: string, n: number) =>
  create(ShipmentDispatchedSchema, { orderId, shipment: { shipmentId: `S${n}` } });

async function subscribe(
  eventTypes: string[],
  extra: { channels?: Channel[]; channelIds?: string[]; maxPerSecond?: number } = {},
) {
  const subscriptionId = uniqueName("sub").replaceAll("_", "-");
  const endpoint = receiver.endpoint(subscriptionId);
  const { subscription, signingSecret } = await delivery.client.createSubscription({
    requestId: subscriptionId,
    subscription: {
      subscriptionId,
      url: endpoint.url,
      filter: { eventTypes, channels: extra.channels ?? [], channelIds: extra.channelIds ?? [] },
      maxPerSecond: extra.maxPerSecond ?? 0,
    },
  });
  return { subscriptionId, subscription, secret: signingSecret, endpoint };
}

const ofOrder = async (endpoint: ReceiverEndpoint, orderId: string) =>
  (await endpoint.received()).filter((r) => r.subject === orderId);

describe("outbound delivery", () => {
  it("delivers every event the filter takes, signed, in stream order per aggregate", async () => {
    const { secret, subscription, endpoint } = await subscribe([
      "order.order_accepted",
      "order.shipment_dispatched",
    ]);
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(subscription?.state).toBe(SubscriptionState.ACTIVE);
    expect(subscription?.maxPerSecond).toBe(10);
    await endpoint.control({ mode: "ok", secrets: [secret] });
    const [a, b, c] = [uniqueName("o"), uniqueName("o"), uniqueName("o")];
    const orders = [a, b, c];
    for (const orderId of orders) await emitter.emit(orderId, OrderAcceptedSchema, accepted(orderId));
    for (let n = 1; n <= 4; n++)
      for (const orderId of orders)
        await emitter.emit(orderId, ShipmentDispatchedSchema, shipped(orderId, n));
    // Not taken by the filter: never delivered.
    await emitter.emit(a, OrderLineCancelledSchema, create(OrderLineCancelledSchema, { orderId: a }));
    for (const orderId of orders) {
      const got = await until(async () => {
        const list = await ofOrder(endpoint, orderId);
        expect(list).toHaveLength(5);
        return list;
      });
      expect(got.map((r) => r.sequence)).toEqual([1, 2, 3, 4, 5]);
      expect(got.every((r) => r.verified)).toBe(true);
      expect(got[0]?.type).toBe("retail.order.v1.OrderAccepted");
      expect(got[0]?.body.data).toMatchObject({ order: { orderId, channel: "CHANNEL_WEB" } });
    }
  });

  it("retries through errors and hangs, holding an aggregate's later events back, then delivers all in order", async () => {
    const { subscriptionId, secret, endpoint } = await subscribe(["order.#"]);
    await endpoint.control({ mode: "fail", secrets: [secret] });
    const orderId = uniqueName("o");
    await emitter.emit(orderId, OrderAcceptedSchema, accepted(orderId));
    await emitter.emit(orderId, ShipmentDispatchedSchema, shipped(orderId, 1));
    const failing = await until(async () => {
      const { deliveries } = await delivery.client.listDeliveries({ subscriptionId });
      const first = deliveries.find((d) => d.sequence === 1n);
      expect(first?.attempts).toBeGreaterThanOrEqual(1);
      return deliveries;
    });
    expect(failing.find((d) => d.sequence === 1n)?.lastStatusCode).toBe(500);
    // The later event waits behind the failing one: it has not been tried.
    expect(failing.find((d) => d.sequence === 2n)?.attempts).toBe(0);
    await endpoint.control({ mode: "hang" });
    await until(async () => {
      const { deliveries } = await delivery.client.listDeliveries({ subscriptionId });
      expect(deliveries.find((d) => d.sequence === 1n)?.lastError).toMatch(/no answer within 1000 ms/);
    });
    await endpoint.control({ mode: "ok" });
    const got = await until(async () => {
      const list = await ofOrder(endpoint, orderId);
      expect(list.filter((r) => r.verified)).toHaveLength(2);
      return list;
    });
    expect(got.map((r) => r.sequence)).toEqual([1, 2]);
    // Marked delivered once the endpoint's answer is back (just after the receiver recorded it).
    await until(async () => {
      const { deliveries } = await delivery.client.listDeliveries({
        subscriptionId,
        state: DeliveryState.DELIVERED,
      });
      expect(deliveries).toHaveLength(2);
    });
  });

  it("dead-letters a delivery after the last retry and replays it from the list, once per request", async () => {
    const { subscriptionId, secret, endpoint } = await subscribe(["order.order_accepted"]);
    await endpoint.control({ mode: "fail", secrets: [secret] });
    const orderId = uniqueName("o");
    await emitter.emit(orderId, OrderAcceptedSchema, accepted(orderId));
    const dead = await until(async () => {
      const { deliveries } = await delivery.client.listDeliveries({
        subscriptionId,
        state: DeliveryState.DEAD,
      });
      expect(deliveries).toHaveLength(1);
      return deliveries[0];
    });
    expect(dead?.attempts).toBe(4);
    expect(dead?.lastStatusCode).toBe(500);
    await endpoint.control({ mode: "ok" });
    const before = (await delivery.client.getSubscription({ subscriptionId })).subscription?.version ?? 0n;
    const replay = { requestId: uniqueName("replay"), subscriptionId, deadLetters: true };
    expect((await delivery.client.replayDeliveries(replay)).count).toBe(1);
    await until(async () =>
      expect((await ofOrder(endpoint, orderId)).filter((r) => r.verified)).toHaveLength(1),
    );
    // The same request again replays nothing more and answers the first count.
    expect((await delivery.client.replayDeliveries(replay)).count).toBe(1);
    const after = (await delivery.client.getSubscription({ subscriptionId })).subscription?.version ?? 0n;
    expect(after).toBe(before + 1n);
    await until(async () => {
      const { deliveries } = await delivery.client.listDeliveries({ subscriptionId });
      expect(deliveries.map((d) => [d.state, d.attempts])).toEqual([[DeliveryState.DELIVERED, 1]]);
    });
  });

  it("signs with the old and the new secret while a rotation overlaps, then with the new one only", async () => {
    const { subscriptionId, secret: old, endpoint } = await subscribe(["order.order_accepted"]);
    const rotated = await delivery.client.rotateSigningSecret({
      requestId: uniqueName("rot"),
      subscriptionId,
      overlap: durationFromMs(3_600_000),
    });
    expect(rotated.signingSecret).not.toBe(old);
    expect(rotated.subscription?.secrets).toHaveLength(2);
    // A receiver still on the old secret verifies; one already on the new secret does too.
    for (const secrets of [[old], [rotated.signingSecret]]) {
      await endpoint.control({ mode: "ok", secrets });
      const orderId = uniqueName("o");
      await emitter.emit(orderId, OrderAcceptedSchema, accepted(orderId));
      await until(async () =>
        expect((await ofOrder(endpoint, orderId)).map((r) => r.verified)).toEqual([true]),
      );
    }
    const ended = await delivery.client.rotateSigningSecret({
      requestId: uniqueName("rot"),
      subscriptionId,
      overlap: durationFromMs(0),
    });
    await endpoint.control({ mode: "ok", secrets: [rotated.signingSecret] });
    const orderId = uniqueName("o");
    await emitter.emit(orderId, OrderAcceptedSchema, accepted(orderId));
    // Signed by the newest secret only: the receiver's previous one no longer verifies it (401, retried).
    await until(async () =>
      expect((await ofOrder(endpoint, orderId)).map((r) => r.verified)).toContain(false),
    );
    await endpoint.control({ secrets: [ended.signingSecret] });
    await until(async () =>
      expect((await ofOrder(endpoint, orderId)).map((r) => r.verified)).toContain(true),
    );
  });

  it("filters by channel, following an order's channel to events that do not repeat it", async () => {
    const { secret, endpoint } = await subscribe(["order.#"], { channels: [Channel.MARKETPLACE] });
    await endpoint.control({ mode: "ok", secrets: [secret] });
    const market = uniqueName("o");
    const web = uniqueName("o");
    await emitter.emit(market, OrderAcceptedSchema, accepted(market, Channel.MARKETPLACE));
    await emitter.emit(web, OrderAcceptedSchema, accepted(web, Channel.WEB));
    await emitter.emit(
      market,
      OrderLineCancelledSchema,
      create(OrderLineCancelledSchema, { orderId: market }),
    );
    await emitter.emit(web, OrderLineCancelledSchema, create(OrderLineCancelledSchema, { orderId: web }));
    await until(async () => expect((await ofOrder(endpoint, market)).map((r) => r.sequence)).toEqual([1, 2]));
    expect(await ofOrder(endpoint, web)).toEqual([]);
  });

  it("sends a marketplace its own channel's availability as it changes, and no other channel's", async () => {
    const { secret, endpoint } = await subscribe(["inventory.availability_changed"], {
      channelIds: ["amazon-us"],
    });
    await endpoint.control({ mode: "ok", secrets: [secret] });
    const sku = uniqueName("SKU");
    const stream = `stock:${sku}:DC-1`;
    // As inventory publishes one stock change: the raw figure, and one per channel the location feeds.
    const changed = (channelId: string, available: bigint, previous: bigint) =>
      create(AvailabilityChangedSchema, {
        availability: { sku, locationId: "DC-1", channelId, available },
        previousAvailable: previous,
      });
    await emitter.emit(stream, AvailabilityChangedSchema, changed("", 10n, 12n));
    await emitter.emit(stream, AvailabilityChangedSchema, changed("web", 10n, 12n));
    await emitter.emit(stream, AvailabilityChangedSchema, changed("amazon-us", 8n, 10n));
    await emitter.emit(stream, AvailabilityChangedSchema, changed("amazon-us", 5n, 8n));
    const got = await until(async () => {
      const list = (await endpoint.received()).filter((r) => r.subject === stream);
      expect(list).toHaveLength(2);
      return list;
    });
    expect(got.every((r) => r.verified)).toBe(true);
    expect(got.map((r) => r.body.data)).toEqual([
      expect.objectContaining({
        availability: expect.objectContaining({ channelId: "amazon-us", available: "8" }),
      }),
      expect.objectContaining({
        availability: expect.objectContaining({ channelId: "amazon-us", available: "5" }),
      }),
    ]);
  });

  it("holds an event that comes before its order's channel is known, then decides it in its place", async () => {
    const { subscriptionId, secret, endpoint } = await subscribe(["order.#"], {
      channels: [Channel.MARKETPLACE],
    });
    await endpoint.control({ mode: "ok", secrets: [secret] });
    const [market, web] = [uniqueName("o"), uniqueName("o")];
    // Each order's line cancellation (version 2) arrives before its acceptance (version 1).
    for (const orderId of [market, web])
      await emitter.emit(orderId, OrderLineCancelledSchema, create(OrderLineCancelledSchema, { orderId }), 2);
    await until(async () =>
      expect((await delivery.client.listDeliveries({ subscriptionId })).deliveries).toHaveLength(2),
    );
    await emitter.emit(market, OrderAcceptedSchema, accepted(market, Channel.MARKETPLACE), 1);
    await emitter.emit(web, OrderAcceptedSchema, accepted(web, Channel.WEB), 1);
    await until(async () => expect((await ofOrder(endpoint, market)).map((r) => r.sequence)).toEqual([1, 2]));
    // The web order's cancellation is dropped once its channel is known: it was never the subscriber's.
    await until(async () => {
      const { deliveries } = await delivery.client.listDeliveries({ subscriptionId });
      expect(deliveries.map((d) => d.aggregateId)).toEqual([market, market]);
    });
    expect(await ofOrder(endpoint, web)).toEqual([]);
  });

  it("sends a warehouse an X12 940 for each accepted order with lines to ship from it, signed, and nothing for the others", async () => {
    const subscriptionId = uniqueName("wms").replaceAll("_", "-");
    const endpoint = receiver.endpoint(subscriptionId);
    const { signingSecret } = await delivery.client.createSubscription({
      requestId: subscriptionId,
      subscription: {
        subscriptionId,
        url: endpoint.url,
        filter: { eventTypes: ["order.order_accepted"], locationIds: ["DC-1"] },
        format: DeliveryFormat.X12_940,
        x12: { senderQualifier: "ZZ", senderId: "RETAILMESH", receiverQualifier: "ZZ", receiverId: "WMSDC1" },
      },
    });
    await endpoint.control({ mode: "ok", secrets: [signingSecret] });
    const [fromDc, fromStore] = [uniqueName("o"), uniqueName("o")];
    const order = (orderId: string, locationId: string) =>
      create(OrderAcceptedSchema, {
        order: {
          orderId,
          channel: Channel.WEB,
          lines: [
            {
              lineId: "1",
              sku: "AB-1",
              quantity: 2n,
              fulfillmentType: FulfillmentType.SHIP,
              fulfillmentLocationId: locationId,
            },
          ],
        },
      });
    await emitter.emit(fromStore, OrderAcceptedSchema, order(fromStore, "ST-1"));
    await emitter.emit(fromDc, OrderAcceptedSchema, order(fromDc, "DC-1"));
    const [document] = await until(async () => {
      const received = await endpoint.received();
      expect(received).toHaveLength(1);
      return received;
    });
    expect([document?.type, document?.verified]).toEqual(["application/edi-x12", true]);
    const text = document?.body.raw ?? "";
    expect(text).toMatch(/^ISA\*00\*.{10}\*00\*.{10}\*ZZ\*RETAILMESH {5}\*ZZ\*WMSDC1 {9}\*/);
    expect(text).toContain(`~ST*940*0001~W05*N*${fromDc}*~`);
    expect(text).toContain("~LX*1~W01*2*EA**VN*AB-1~");
    // The store's order is not the warehouse's: its delivery was dropped, nothing was sent.
    await until(async () => {
      const { deliveries } = await delivery.client.listDeliveries({ subscriptionId });
      expect(deliveries.map((d) => [d.aggregateId, d.state])).toEqual([[fromDc, DeliveryState.DELIVERED]]);
    });
    const refused = await rejection(
      delivery.client.createSubscription({
        requestId: uniqueName("bad"),
        subscription: {
          subscriptionId: uniqueName("wms").replaceAll("_", "-"),
          url: endpoint.url,
          filter: { eventTypes: ["order.#"] },
          format: DeliveryFormat.X12_940,
          x12: { senderQualifier: "zz", senderId: "RETAILMESH", receiverQualifier: "ZZ", receiverId: "" },
        },
      }),
    );
    expect(violatedFields(refused)).toEqual([
      "subscription.x12.sender_qualifier",
      "subscription.x12.receiver_id",
      "subscription.filter.location_ids",
      "subscription.filter.event_types[0]",
    ]);
  });

  it("refuses a subscription that breaks a rule, naming each field", async () => {
    const error = await rejection(
      delivery.client.createSubscription({
        requestId: "bad",
        subscription: {
          subscriptionId: "Bad Id",
          url: "http://erp.example.com/hooks",
          filter: { eventTypes: ["order.**x"], channels: [Channel.UNSPECIFIED] },
          maxPerSecond: 5000,
        },
      }),
    );
    expect(error.code).toBe(Code.InvalidArgument);
    expect(violatedFields(error)).toEqual([
      "subscription.subscription_id",
      "subscription.url",
      "subscription.max_per_second",
      "subscription.filter.event_types[0]",
      "subscription.filter.channels[0]",
    ]);
    const { subscriptionId, endpoint } = await subscribe(["order.#"]);
    const taken = await rejection(
      delivery.client.createSubscription({
        requestId: uniqueName("again"),
        subscription: { subscriptionId, url: endpoint.url, filter: { eventTypes: ["order.#"] } },
      }),
    );
    expect(taken.code).toBe(Code.AlreadyExists);
    expect((await rejection(delivery.client.getSubscription({ subscriptionId: "nobody" }))).code).toBe(
      Code.NotFound,
    );
  });
});

describe("a restart of the delivery service", () => {
  it("loses nothing: events recorded before, and published while it was down, are delivered after", async () => {
    const first = await startDelivery("restart");
    const emit = createEmitter(first.exchange);
    try {
      const subscriptionId = uniqueName("sub").replaceAll("_", "-");
      const endpoint = receiver.endpoint(subscriptionId);
      const { signingSecret } = await first.client.createSubscription({
        requestId: subscriptionId,
        subscription: { subscriptionId, url: endpoint.url, filter: { eventTypes: ["order.#"] } },
      });
      await endpoint.control({ mode: "fail", secrets: [signingSecret] });
      const orderId = uniqueName("o");
      await emit.emit(orderId, OrderAcceptedSchema, accepted(orderId));
      await until(async () => {
        const { deliveries } = await first.client.listDeliveries({ subscriptionId });
        expect(deliveries[0]?.attempts).toBeGreaterThanOrEqual(1);
      });
      await first.stopInstance();
      for (let n = 1; n <= 3; n++) await emit.emit(orderId, ShipmentDispatchedSchema, shipped(orderId, n));
      await endpoint.control({ mode: "ok" });
      const second = await startDelivery(
        "restart",
        {},
        { database: first.database, exchange: first.exchange },
      );
      try {
        const got = await until(async () => {
          const list = (await ofOrder(endpoint, orderId)).filter((r) => r.verified);
          expect(list).toHaveLength(4);
          return list;
        });
        expect(got.map((r) => r.sequence)).toEqual([1, 2, 3, 4]);
        expect(new Set(got.map((r) => r.id)).size).toBe(4);
      } finally {
        await second.stop();
      }
    } finally {
      await emit.close();
    }
  });
});

describe("several delivery instances", () => {
  it("deliver each event once, in order per aggregate, with one instance holding the subscription", async () => {
    const first = await startDelivery("pair");
    const second = await startDelivery("pair", {}, { database: first.database, exchange: first.exchange });
    const emit = createEmitter(first.exchange);
    try {
      const subscriptionId = uniqueName("sub").replaceAll("_", "-");
      const endpoint = receiver.endpoint(subscriptionId);
      const { signingSecret } = await first.client.createSubscription({
        requestId: subscriptionId,
        subscription: { subscriptionId, url: endpoint.url, filter: { eventTypes: ["order.#"] } },
      });
      await endpoint.control({ mode: "ok", secrets: [signingSecret] });
      // The second instance learns the subscription on its next refresh.
      await until(() =>
        expect(second.running.deps.cache.current().map((s) => s.subscriptionId)).toContain(subscriptionId),
      );
      const orders = [uniqueName("o"), uniqueName("o"), uniqueName("o")];
      for (const orderId of orders) await emit.emit(orderId, OrderAcceptedSchema, accepted(orderId));
      for (let n = 1; n <= 3; n++)
        for (const orderId of orders) await emit.emit(orderId, ShipmentDispatchedSchema, shipped(orderId, n));
      const all = await until(async () => {
        const received = await endpoint.received();
        expect(received).toHaveLength(12);
        return received;
      });
      expect(new Set(all.map((r) => r.id)).size).toBe(12);
      for (const orderId of orders)
        expect(all.filter((r) => r.subject === orderId).map((r) => r.sequence)).toEqual([1, 2, 3, 4]);
    } finally {
      await emit.close();
      await second.stopInstance();
      await first.stop();
    }
  });

  it("take over a crashed instance's subscription once its lease runs out, losing nothing", async () => {
    const database = uniqueName("delivery_crash");
    const exchange = uniqueName("ex_crash");
    // The first instance is a process of its own, so it can be killed without letting go of its lease.
    const crashing = await startServiceOnFreePorts({
      name: "delivery",
      dir: fileURLToPath(new URL("..", import.meta.url)),
      output: "ignore",
      env: { ...testServiceEnv(database, exchange), ...testDeliveryEnv, LOG_LEVEL: "warn" },
    });
    const crashingClient = createClient(
      DeliveryService,
      createGrpcTransport({ baseUrl: `http://127.0.0.1:${crashing.port}`, defaultTimeoutMs: 20_000 }),
    );
    const emit = createEmitter(exchange);
    let second: Awaited<ReturnType<typeof startDelivery>> | undefined;
    try {
      const subscriptionId = uniqueName("sub").replaceAll("_", "-");
      const endpoint = receiver.endpoint(subscriptionId);
      const { signingSecret } = await crashingClient.createSubscription({
        requestId: subscriptionId,
        subscription: { subscriptionId, url: endpoint.url, filter: { eventTypes: ["order.#"] } },
      });
      // The receiver fails, so the first instance holds the subscription with a delivery pending.
      await endpoint.control({ mode: "fail", secrets: [signingSecret] });
      const orderId = uniqueName("o");
      await emit.emit(orderId, OrderAcceptedSchema, accepted(orderId));
      await until(async () => {
        const { deliveries } = await crashingClient.listDeliveries({ subscriptionId });
        expect(deliveries[0]?.attempts).toBeGreaterThanOrEqual(1);
      });
      crashing.child.kill("SIGKILL");
      // When the dead instance's lease runs out: it renewed it last some time before the kill.
      const mongo = new MongoClient(testMongoUrl());
      const lease = await mongo
        .db(database)
        .collection<{ _id: string; expiresAt: Date }>("leases")
        .findOne({ _id: `subscription:${subscriptionId}` })
        .finally(() => mongo.close());
      expect(lease?.expiresAt.getTime()).toBeGreaterThan(Date.now());
      await endpoint.control({ mode: "ok" });
      await emit.emit(orderId, ShipmentDispatchedSchema, shipped(orderId, 1));
      second = await startDelivery("crash", {}, { database, exchange });
      const got = await until(
        async () => {
          const list = (await ofOrder(endpoint, orderId)).filter((r) => r.verified);
          expect(list).toHaveLength(2);
          return list;
        },
        { timeout: 20_000 },
      );
      expect(got.map((r) => r.sequence)).toEqual([1, 2]);
      // Not before the dead instance's lease ran out: one holder at a time, even after a crash.
      const { deliveries } = await second.client.listDeliveries({ subscriptionId });
      expect(deliveries).toHaveLength(2);
      for (const { deliveredTime } of deliveries)
        expect(deliveredTime ? timestampMs(deliveredTime) : 0).toBeGreaterThanOrEqual(
          lease?.expiresAt.getTime() ?? Number.POSITIVE_INFINITY,
        );
    } finally {
      crashing.child.kill("SIGKILL");
      await emit.close();
      if (second) await second.stop();
      else await dropTestDatabases(database);
    }
  });
});

// Erasure reaches every copy: one marker planted in every personal field of a customer who has an order
// shipped to an address, a payment, a return, a webhook delivery and an event parked in a queue; after
// the erasure, no database of any service (every collection, binary fields read as text), no queue and
// no log holds it.
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { create, toBinary } from "@bufbuild/protobuf";
import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import { OrderAcceptedSchema } from "@retail/contracts/retail/order/v1/order_events_pb";
import { testAmqpUrl, testMongoUrl, uniqueName, until } from "@retail/platform/testing";
import amqplib from "amqplib";
import { Binary, MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { usd } from "./bodies.js";
import { type GatewayMesh, startGatewayMesh } from "./harness.js";
import { restClient, sha256 } from "./rest-client.js";

const key = "erasure-admin-key";
const fixtures = new URL("./fixtures/shopify/", import.meta.url);
const shopifyBody = readFileSync(new URL("orders-create.webhook.json", fixtures), "utf8");
const shopifyVector = JSON.parse(readFileSync(new URL("hmac-test-vector.json", fixtures), "utf8")) as {
  secret: string;
  headers: Record<string, string>;
};

let mesh: GatewayMesh;
const { get, post, receive, setUpLocations } = restClient(() => mesh, key);

beforeAll(async () => {
  mesh = await startGatewayMesh(
    "erasure",
    {
      clients: [
        {
          id: "ops",
          apiKeySha256: [sha256(key)],
          scopes: ["*"],
          rateLimit: { requestsPerSecond: 1000, burst: 1000 },
        },
        { id: "shopify-web", scopes: ["order:write"], channel: "CHANNEL_WEB" },
      ],
      shopifyShops: [
        {
          shopDomain: shopifyVector.headers["X-Shopify-Shop-Domain"],
          webhookSecret: shopifyVector.secret,
          clientId: "shopify-web",
          channelId: "web",
        },
      ],
    },
    {},
    "info",
  );
  await setUpLocations();
}, 120_000);
afterAll(async () => mesh?.stopAll(), 60_000);

// One marker, planted everywhere a person's data can go; a phone number of its own (digits only).
const marker = uniqueName("zqmark")
  .toLowerCase()
  .replace(/[^a-z0-9]/g, "");
const phoneDigits = `2127360${String(Date.now()).slice(-3)}`;
const needles = [marker, phoneDigits];

/** A document as text, binary fields (protobuf bodies, stored answers) read as text too. */
function asText(value: unknown): string {
  if (value instanceof Binary) return Buffer.from(value.buffer).toString("latin1");
  if (Array.isArray(value)) return value.map(asText).join(" ");
  if (value instanceof Date) return value.toISOString();
  if (value !== null && typeof value === "object")
    return Object.entries(value)
      .map(([k, v]) => `${k}: ${asText(v)}`)
      .join(" ");
  return String(value);
}

/** Every document of every collection of the mesh's databases, as text, binary fields read as text. */
async function databaseText(): Promise<string> {
  const client = await new MongoClient(testMongoUrl()).connect();
  try {
    const parts: string[] = [];
    for (const name of mesh.databases) {
      const db = client.db(name);
      for (const { name: collection } of await db.listCollections().toArray()) {
        for (const doc of await db.collection(collection).find({}).toArray()) parts.push(asText(doc));
      }
    }
    return parts.join("\n").toLowerCase();
  } finally {
    await client.close();
  }
}

/** Every message waiting in the mesh's consumer queues (main, retry, parking), read and put back. */
async function queueText(): Promise<string> {
  const connection = await amqplib.connect(testAmqpUrl());
  try {
    const channel = await connection.createChannel();
    const parts: string[] = [];
    for (const queue of mesh.consumerQueues) {
      for (const name of [
        queue,
        `${queue}.parking`,
        `${queue}.retry.1000ms`,
        `${queue}.retry.10000ms`,
        `${queue}.retry.60000ms`,
      ]) {
        const taken = [];
        for (;;) {
          const message = await channel.get(name, { noAck: false }).catch(() => false as const);
          if (!message) break;
          parts.push(message.content.toString("latin1"));
          taken.push(message);
        }
        for (const message of taken) channel.nack(message, false, true);
      }
    }
    return parts.join("\n").toLowerCase();
  } finally {
    await connection.close();
  }
}

const found = (text: string) => needles.filter((n) => text.includes(n));

describe("erasure", () => {
  it("leaves no trace of an erased customer in any database, queue or log of the mesh", async () => {
    const sku = uniqueName("ERASE");
    await receive(sku, "DC-1", 10);
    const address = {
      lines: [`1 ${marker} street`],
      locality: `${marker}ville`,
      administrativeArea: "NY",
      postalCode: marker,
      regionCode: "US",
      recipient: `${marker} recipient`,
    };
    const submitted = await post("/v1/orders", {
      channel: "CHANNEL_WEB",
      channelId: "web",
      channelOrderId: uniqueName("o"),
      currencyCode: "USD",
      customer: {
        sourceSystem: "shopify-web",
        sourceId: `acct-${marker}`,
        email: `${marker}@example.com`,
        phone: `+1${phoneDigits}`,
        givenName: `${marker}given`,
        familyName: `${marker}family`,
        loyaltyNumber: `${marker}`,
      },
      shipTo: address,
      lines: [
        { lineId: "1", sku, quantity: "2", unitPrice: usd(2_500), fulfillmentType: "FULFILLMENT_TYPE_SHIP" },
      ],
    });
    expect(submitted.status, JSON.stringify(submitted.json)).toBe(200);
    const order = submitted.json.order;
    const customerId: string = order.customerId;
    const orderId: string = order.orderId;
    const paid = await post(`/v1/orders/${orderId}/paymentEvents`, {
      paymentEventId: uniqueName("cap"),
      type: "PAYMENT_EVENT_TYPE_CAPTURE",
      outcome: "PAYMENT_OUTCOME_APPROVED",
      amount: order.grandTotal,
      provider: "stripe",
      providerReference: `ch_${orderId}`,
      reason: `${marker} paid by card`,
    });
    expect(paid.status, JSON.stringify(paid.json)).toBe(200);
    await post(`/v1/orders/${orderId}/shipments`, {
      shipmentId: "S1",
      carrier: "UPS",
      trackingNumber: "1Z",
      lines: [{ lineId: "1", quantity: "2" }],
    });
    const returned = await post(`/v1/orders/${orderId}/returns`, {
      returnId: "R1",
      locationId: "DC-1",
      lines: [
        {
          lineId: "1",
          quantity: "1",
          condition: "RETURN_CONDITION_RESTOCK",
          reason: `${marker} did not fit`,
        },
      ],
    });
    expect(returned.status, JSON.stringify(returned.json)).toBe(200);

    // A Shopify guest checkout by the same shopper (same email): resolved to the same customer.
    await receive("IPOD2008PINK", "DC-1", 4);
    const start = shopifyBody.indexOf('"customer":');
    let end = shopifyBody.indexOf("{", start);
    for (let depth = 0; ; end++) {
      if (shopifyBody[end] === "{") depth++;
      if (shopifyBody[end] === "}" && --depth === 0) break;
    }
    const webhook = Buffer.from(
      `${shopifyBody.slice(0, start)}"customer": null${shopifyBody.slice(end + 1)}`
        .replaceAll("820982911946154508", "820982911946159999")
        .replace('"email": "jon@example.com"', `"email": "${marker}@example.com"`)
        .replaceAll("Steve", `${marker}steve`)
        .replaceAll("123 Shipping Street", `${marker} shipping street`)
        .replaceAll("123 Billing Street", `${marker} billing street`),
    );
    const hmac = createHmac("sha256", shopifyVector.secret).update(webhook).digest("base64");
    const delivered = await fetch(`${mesh.url}/webhooks/shopify`, {
      method: "POST",
      headers: {
        ...shopifyVector.headers,
        "X-Shopify-Hmac-Sha256": hmac,
        "X-Shopify-Webhook-Id": uniqueName("wh"),
      },
      body: new Uint8Array(webhook),
    });
    const guest = (await delivered.json()) as { order: { customerId: string } };
    expect(delivered.status).toBe(200);
    expect(guest.order.customerId).toBe(customerId);

    // An event of this customer parked in finance's queue, as if finance had failed on it.
    const broker = await amqplib.connect(testAmqpUrl());
    const channel = await broker.createConfirmChannel();
    const parkedEvent = create(OrderAcceptedSchema, {
      order: { orderId, customerId, channel: Channel.WEB, shipTo: address },
    });
    channel.sendToQueue(
      `${mesh.exchange}.finance.order-events.parking`,
      Buffer.from(toBinary(OrderAcceptedSchema, parkedEvent)),
      {
        headers: { "ce-type": OrderAcceptedSchema.typeName, "ce-id": uniqueName("ev"), "ce-source": "order" },
      },
    );
    await channel.waitForConfirms();
    await broker.close();

    // Before: the marker is everywhere it should be.
    const before = await databaseText();
    expect(found(before)).toEqual(needles);
    expect(found(await queueText())).toEqual([marker]);

    const erased = await post(`/v1/customers/${customerId}:erase`, { reason: "GDPR article 17 request" });
    expect(erased.status, JSON.stringify(erased.json)).toBe(200);

    await until(async () => expect(found(await databaseText())).toEqual([]), {
      timeout: 30_000,
      interval: 500,
    });
    await until(async () => expect(found(await queueText())).toEqual([]), { timeout: 30_000, interval: 500 });
    expect(found(`${mesh.logs()}\n${mesh.serviceLogs()}`.toLowerCase())).toEqual([]);

    // The order and its money are still there, under the pseudonymous id.
    const kept = await get(`/v1/orders/${orderId}`);
    expect(kept.json.order).toMatchObject({ orderId, customerId, grandTotal: order.grandTotal });
    expect(kept.json.order.shipTo).toMatchObject({ administrativeArea: "NY", regionCode: "US", lines: [] });
  });
});

// The channel formats the gateway takes besides REST, over HTTP through the real gateway to the real
// services, from real public samples: Shopify and Stripe webhooks (signed), Amazon settlement reports
// and X12 850 purchase orders (posted with an API key).
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { uniqueName } from "@retail/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GatewayMesh, startGatewayMesh } from "./harness.js";
import { restClient, sha256 } from "./rest-client.js";

const key = "admin-test-key";
const stripeSecret = "whsec_channel_formats_test_secret";
const stripeFixtures = new URL("./fixtures/stripe/", import.meta.url);
const shopifyFixtures = new URL("./fixtures/shopify/", import.meta.url);
const shopifyBody = readFileSync(new URL("orders-create.webhook.json", shopifyFixtures));
const shopifyVector = JSON.parse(readFileSync(new URL("hmac-test-vector.json", shopifyFixtures), "utf8")) as {
  secret: string;
  headers: Record<string, string>;
};
let mesh: GatewayMesh;
const { get, put, receive, submitOrder, setUpLocations } = restClient(() => mesh, key);

beforeAll(async () => {
  mesh = await startGatewayMesh("formats", {
    clients: [
      {
        id: "ops",
        apiKeySha256: [sha256(key)],
        scopes: ["*"],
        rateLimit: { requestsPerSecond: 1000, burst: 1000 },
      },
      { id: "shopify-web", scopes: ["order:write"], channel: "CHANNEL_WEB" },
      { id: "stripe", scopes: ["order:write"] },
      { id: "xyz-retail", apiKeySha256: [sha256("xyz-key")], scopes: ["order:*"], channel: "CHANNEL_B2B" },
    ],
    shopifyShops: [
      {
        shopDomain: shopifyVector.headers["X-Shopify-Shop-Domain"],
        webhookSecret: shopifyVector.secret,
        clientId: "shopify-web",
        channelId: "web",
      },
    ],
    stripeEndpoints: [{ webhookSecret: stripeSecret, clientId: "stripe" }],
    x12Partners: [{ senderId: "4405197800", clientId: "xyz-retail", channelId: "b2b", taxCode: "exempt" }],
  });
  await setUpLocations();
}, 120_000);
afterAll(async () => mesh?.stopAll(), 60_000);

describe("Shopify webhooks", () => {
  const deliver = (body: Buffer, headers: Record<string, string>) =>
    fetch(`${mesh.url}/webhooks/shopify`, { method: "POST", headers, body: new Uint8Array(body) }).then(
      async (r) => ({
        status: r.status,
        // biome-ignore lint/suspicious/noExplicitAny: tests read JSON answers freely
        json: (await r.json()) as Record<string, any>,
      }),
    );

  it("turns a signed orders/create into one accepted order, however often it is delivered", async () => {
    await receive("IPOD2008PINK", "DC-1", 5);
    const first = await deliver(shopifyBody, shopifyVector.headers);
    expect(first.status, JSON.stringify(first.json)).toBe(200);
    expect(first.json.order, JSON.stringify(first.json.order.rejectionReasons)).toMatchObject({
      status: "ORDER_STATUS_ACCEPTED",
      channel: "CHANNEL_WEB",
      channelOrderId: "820982911946154508",
      shippingTotal: { currencyCode: "USD", minorUnits: "1000" },
      discountTotal: { currencyCode: "USD", minorUnits: "500" },
      subtotal: { currencyCode: "USD", minorUnits: "39800" },
      // The $5 order discount split over both lines, then Kentucky's 6 % on 196.50 each.
      taxTotal: { currencyCode: "USD", minorUnits: "2358" },
      grandTotal: { currencyCode: "USD", minorUnits: "42658" },
      customerId: expect.any(String),
    });
    const again = await deliver(shopifyBody, {
      ...shopifyVector.headers,
      "X-Shopify-Webhook-Id": "resent-by-hand",
    });
    expect(again.json.order.orderId).toBe(first.json.order.orderId);
    const position = await get("/v1/locations/DC-1/skus/IPOD2008PINK/position");
    expect(position.json.position).toMatchObject({ onHand: "5", reserved: "2" });
  });

  it("accepts guest checkouts (no customer object), resolving the shopper from the order's email", async () => {
    await receive("IPOD2008PINK", "DC-1", 4);
    const raw = shopifyBody.toString("utf8");
    const start = raw.indexOf('"customer":');
    let depth = 0;
    let end = raw.indexOf("{", start);
    do {
      if (raw[end] === "{") depth++;
      if (raw[end] === "}") depth--;
      end++;
    } while (depth > 0);
    const guest = (orderId: string) => {
      const body = Buffer.from(
        `${raw.slice(0, start)}"customer": null${raw.slice(end)}`.replaceAll("820982911946154508", orderId),
      );
      const hmac = createHmac("sha256", shopifyVector.secret).update(body).digest("base64");
      return deliver(body, {
        ...shopifyVector.headers,
        "X-Shopify-Hmac-Sha256": hmac,
        "X-Shopify-Webhook-Id": `guest-${orderId}`,
      });
    };
    const first = await guest("820982911946150001");
    expect(first.status, JSON.stringify(first.json)).toBe(200);
    expect(first.json.order, JSON.stringify(first.json.order.rejectionReasons)).toMatchObject({
      status: "ORDER_STATUS_ACCEPTED",
      channelOrderId: "820982911946150001",
    });
    const second = await guest("820982911946150002");
    expect(second.json.order.status).toBe("ORDER_STATUS_ACCEPTED");
    // The same shopper (jon@example.com) checked out twice as a guest: one customer.
    expect(second.json.order.customerId).toBe(first.json.order.customerId);
  });

  it("refuses a body the signature does not cover, and acknowledges topics it does not handle", async () => {
    const tampered = Buffer.from(shopifyBody.toString("utf8").replace('"199.00"', '"1.00"'));
    const refused = await deliver(tampered, shopifyVector.headers);
    expect([refused.status, refused.json.details?.[0]?.reason]).toEqual([401, "WEBHOOK_SIGNATURE_INVALID"]);
    const paid = Buffer.from('{"id": 1}');
    const signature = createHmac("sha256", shopifyVector.secret).update(paid).digest("base64");
    const ignored = await deliver(paid, {
      ...shopifyVector.headers,
      "X-Shopify-Topic": "orders/paid",
      "X-Shopify-Hmac-Sha256": signature,
    });
    expect([ignored.status, ignored.json.ignored]).toEqual([202, 'topic "orders/paid" is not handled']);
  });
});

describe("Stripe webhooks", () => {
  const deliver = (event: unknown, signedAt = Math.floor(Date.now() / 1000)) => {
    const body = Buffer.from(JSON.stringify(event));
    const v1 = createHmac("sha256", stripeSecret).update(`${signedAt}.`).update(body).digest("hex");
    return mesh.call("POST", "/webhooks/stripe", {
      rawBody: body.toString("utf8"),
      headers: { "stripe-signature": `t=${signedAt},v1=${v1}` },
    });
  };
  const fixture = (name: string) => JSON.parse(readFileSync(new URL(name, stripeFixtures), "utf8"));

  it("records a succeeded PaymentIntent as the capture of its order and a refunded charge as its refund, once each", async () => {
    const sku = uniqueName("SKU");
    await receive(sku, "DC-1", 2);
    const order = await submitOrder(sku, 1);
    const total = Number(order.grandTotal.minorUnits);
    const succeeded = fixture("event-payment-intent-succeeded.json");
    Object.assign(succeeded.data.object, { metadata: { order_id: order.orderId }, amount_received: total });
    const first = await deliver(succeeded);
    expect([first.status, first.json.recorded]).toEqual([200, ["evt_1FG74XB7kbjcJ8Qq22i2BPdt"]]);
    expect((await deliver(succeeded)).status).toBe(200);
    const refunded = {
      id: "evt_refunded_1",
      type: "charge.refunded",
      created: 1_658_982_466,
      data: fixture("event-charge-refunded.data-only.json"),
    };
    refunded.data.object.metadata = { order_id: order.orderId };
    expect((await deliver(refunded)).json.recorded).toEqual(["re_3LQOJoKXBGcbgpbZ10i9Mg75"]);
    const after = (await get(`/v1/orders/${order.orderId}`)).json.order;
    expect(after.capturedTotal.minorUnits).toBe(String(total));
    expect(after.refundedTotal.minorUnits).toBe("500");
    expect(
      after.paymentEvents.map((e: { type: string; providerReference: string }) => [
        e.type,
        e.providerReference,
      ]),
    ).toEqual([
      ["PAYMENT_EVENT_TYPE_CAPTURE", "ch_fakefakefakefakefake0001"],
      ["PAYMENT_EVENT_TYPE_REFUND", "ch_chargeid"],
    ]);
  });

  it("records refunds of current API versions from refund.created and refund.updated, once each", async () => {
    const sku = uniqueName("SKU");
    await receive(sku, "DC-1", 2);
    const order = await submitOrder(sku, 1);
    const total = Number(order.grandTotal.minorUnits);
    const succeeded = fixture("event-payment-intent-succeeded.json");
    Object.assign(succeeded.data.object, { metadata: { order_id: order.orderId }, amount_received: total });
    succeeded.id = uniqueName("evt");
    expect((await deliver(succeeded)).status).toBe(200);
    const official = fixture("official-openapi-fixtures-subset.json");
    const refund = {
      ...official.refund,
      id: uniqueName("re"),
      amount: 300,
      metadata: { order_id: order.orderId },
    };
    const created = {
      ...official.event,
      id: uniqueName("evt"),
      type: "refund.created",
      data: { object: refund },
    };
    expect((await deliver(created)).json.recorded).toEqual([refund.id]);
    // Stripe also sends the charge without its refunds, and the refund again once updated.
    const charge = { ...official.charge, refunds: undefined, metadata: { order_id: order.orderId } };
    const chargeRefunded = {
      ...official.event,
      id: uniqueName("evt"),
      type: "charge.refunded",
      data: { object: charge },
    };
    expect((await deliver(chargeRefunded)).status).toBe(202);
    const updated = { ...created, id: uniqueName("evt"), type: "refund.updated" };
    expect((await deliver(updated)).status).toBe(200);
    const after = (await get(`/v1/orders/${order.orderId}`)).json.order;
    expect(after.refundedTotal.minorUnits).toBe("300");
  });

  it("refuses an old or forged signature and acknowledges event types it does not take", async () => {
    const event = fixture("event-payment-intent-succeeded.json");
    const stale = await deliver(event, Math.floor(Date.now() / 1000) - 600);
    expect([stale.status, stale.json.details?.[0]?.reason]).toEqual([401, "WEBHOOK_SIGNATURE_INVALID"]);
    const forged = await mesh.call("POST", "/webhooks/stripe", {
      rawBody: JSON.stringify(event),
      headers: { "stripe-signature": `t=${Math.floor(Date.now() / 1000)},v1=${"0".repeat(64)}` },
    });
    expect(forged.status).toBe(401);
    const other = await deliver({ id: "evt_x", type: "customer.created", data: { object: {} } });
    expect([other.status, other.json.ignored]).toEqual([202, 'event type "customer.created" is not handled']);
    const orphan = await deliver(event);
    expect(orphan.status).toBe(400);
    expect(orphan.json.details[0].fieldViolations[0].field).toBe("data.object.metadata.order_id");
  });
});

describe("Amazon settlement reports", () => {
  it("imports a flat file V1 as a settlement, once per Idempotency-Key, and reconciles it", async () => {
    const report = readFileSync(
      new URL("./fixtures/amazon/settlement-flatfile-v1.mws-rs.tsv", import.meta.url),
      "utf8",
    );
    const upload = (idempotencyKey: string | undefined, contentType = "text/tab-separated-values") =>
      mesh.call("POST", "/imports/amazon/settlement-report", {
        key,
        rawBody: report,
        headers: {
          "content-type": contentType,
          ...(idempotencyKey ? { "idempotency-key": idempotencyKey } : {}),
        },
      });
    const idempotencyKey = uniqueName("amz");
    const first = await upload(idempotencyKey);
    expect(first.status, JSON.stringify(first.json)).toBe(200);
    // The sample's order was never captured in this ledger, and its deposit covers far more than the
    // sample's one order: finance raises both as exceptions.
    expect(
      first.json.items.map((i: { settlementLineId: string; status: string }) => [
        i.settlementLineId,
        i.status,
      ]),
    ).toEqual([
      ["1", "RECONCILIATION_STATUS_MISSING_IN_LEDGER"],
      ["2", "RECONCILIATION_STATUS_MATCHED"],
      ["payout", "RECONCILIATION_STATUS_AMOUNT_MISMATCH"],
    ]);
    expect(first.json.items[2].reason).toBe(
      "the payout 1663013 is not the sum of the settlement's lines 2699",
    );
    const replay = await upload(idempotencyKey);
    expect([replay.status, replay.headers.get("idempotent-replayed")]).toEqual([200, "true"]);
    expect(replay.json).toEqual(first.json);
    const recon = await get("/v1/settlements/amazon-6016502941/reconciliation");
    expect(recon.json.items[0]).toMatchObject({
      providerReference: "112-8095165-5463447",
      expected: { minorUnits: "0" },
      actual: { minorUnits: "2799" },
    });
    expect((await upload(undefined)).json.details[0].fieldViolations[0].field).toBe("Idempotency-Key");
    expect((await upload(uniqueName("amz"), "application/json")).status).toBe(415);
  });
});

describe("X12 purchase orders", () => {
  it("submits each 850 of a partner's interchange once, and refuses a file that is not the partner's or does not add up", async () => {
    const edi = readFileSync(new URL("./fixtures/x12/850.node-x12.edi", import.meta.url), "utf8");
    const rule = {
      channel: "CHANNEL_B2B",
      locationIds: ["DC-1"],
      promises: ["FULFILLMENT_PROMISE_SHIP_FROM_DC"],
    };
    expect((await put("/v1/channelRules/b2b", rule)).status).toBe(200);
    for (const sku of ["AB3542", "RD5322", "XY5266", "VX2332", "RV0524", "DX1875"])
      await receive(sku, "DC-1", 1_000);
    const send = (body: string, apiKey = "xyz-key") =>
      mesh.call("POST", "/imports/x12", {
        key: apiKey,
        rawBody: body,
        headers: { "content-type": "application/edi-x12" },
      });
    const first = await send(edi);
    expect(first.status, JSON.stringify(first.json)).toBe(200);
    expect(first.json).toMatchObject({
      orders: [{ poNumber: "08292233294", status: "ORDER_STATUS_ACCEPTED" }],
      ignored: [],
    });
    const order = (await mesh.call("GET", `/v1/orders/${first.json.orders[0].orderId}`, { key: "xyz-key" }))
      .json.order;
    expect(order).toMatchObject({
      channel: "CHANNEL_B2B",
      subtotal: { minorUnits: "1304594" },
      taxTotal: { minorUnits: "0" },
      shipTo: { locality: "SOLON", administrativeArea: "OH" },
    });
    expect((await send(edi)).json.orders[0].orderId).toBe(order.orderId);
    expect((await get("/v1/locations/DC-1/skus/DX1875/position")).json.position.reserved).toBe("696");
    const foreign = await send(edi, key);
    expect([foreign.status, foreign.json.details[0].reason]).toEqual([403, "PARTNER_NOT_ALLOWED"]);
    const altered = await send(
      edi.replace("BEG*00*SA*08292233294", "BEG*00*SA*08292233295").replace("AMT*1*13045.94", "AMT*1*99.00"),
    );
    expect([altered.status, altered.json.details[0].fieldViolations[0].field]).toEqual([
      400,
      "ST 000000010 AMT02",
    ]);
    const listed = await mesh.call("GET", "/v1/orders?pageSize=50", { key: "xyz-key" });
    expect(listed.json.orders.map((o: { channelOrderId: string }) => o.channelOrderId)).toEqual([
      "08292233294",
    ]);
  });
});

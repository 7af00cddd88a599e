// Every route family over HTTP through the real gateway to the real services: inventory set-up and
// stock, customers from source to erasure, an order's life, and the finance it posts. JSON follows
// protobuf's mapping: lowerCamelCase, enums by name, int64 as decimal text.
import { createHash, createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { CustomerIdentityService } from "@retail/contracts/retail/customer/v1/customer_service_pb";
import { FinancePostingService } from "@retail/contracts/retail/finance/v1/finance_service_pb";
import { InventoryService } from "@retail/contracts/retail/inventory/v1/inventory_service_pb";
import { OrderService } from "@retail/contracts/retail/order/v1/order_service_pb";
import { uniqueName, until } from "@retail/platform/testing";
import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020 } from "ajv/dist/2020.js";
import formats from "ajv-formats";
import { OpenAPIClientAxios } from "openapi-client-axios";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRouteTable } from "../src/transcoding/route-table.js";
import { orderJson, receiptJson } from "./bodies.js";
import { type GatewayMesh, startGatewayMesh } from "./harness.js";

const key = "admin-test-key";
const stripeSecret = "whsec_rest_routes_test_secret";
const stripeFixtures = new URL("./fixtures/stripe/", import.meta.url);
const shopifyFixtures = new URL("./fixtures/shopify/", import.meta.url);
const shopifyBody = readFileSync(new URL("orders-create.webhook.json", shopifyFixtures));
const shopifyVector = JSON.parse(readFileSync(new URL("hmac-test-vector.json", shopifyFixtures), "utf8")) as {
  secret: string;
  headers: Record<string, string>;
};
let mesh: GatewayMesh;

beforeAll(async () => {
  mesh = await startGatewayMesh("routes", {
    clients: [
      {
        id: "ops",
        apiKeySha256: [createHash("sha256").update(key).digest("hex")],
        scopes: ["*"],
        rateLimit: { requestsPerSecond: 1000, burst: 1000 },
      },
      { id: "shopify-web", scopes: ["order:write"], channel: "CHANNEL_WEB" },
      { id: "stripe", scopes: ["order:write"] },
      {
        id: "xyz-retail",
        apiKeySha256: [createHash("sha256").update("xyz-key").digest("hex")],
        scopes: ["order:*"],
        channel: "CHANNEL_B2B",
      },
    ],
    x12Partners: [{ senderId: "4405197800", clientId: "xyz-retail", channelId: "b2b", taxCode: "exempt" }],
    stripeEndpoints: [{ webhookSecret: stripeSecret, clientId: "stripe" }],
    shopifyShops: [
      {
        shopDomain: shopifyVector.headers["X-Shopify-Shop-Domain"],
        webhookSecret: shopifyVector.secret,
        clientId: "shopify-web",
        channelId: "web",
      },
    ],
  });
  for (const [id, type] of [
    ["DC-1", "LOCATION_TYPE_DISTRIBUTION_CENTER"],
    ["ST-1", "LOCATION_TYPE_STORE"],
  ])
    expect((await put(`/v1/locations/${id}`, { type, regionCode: "US", name: id })).status).toBe(200);
  const rule = await put("/v1/channelRules/web", {
    channel: "CHANNEL_WEB",
    locationIds: ["DC-1", "ST-1"],
    promises: ["FULFILLMENT_PROMISE_SHIP_FROM_DC", "FULFILLMENT_PROMISE_PICKUP_IN_STORE"],
  });
  expect(rule.json.rule).toMatchObject({
    channelId: "web",
    channel: "CHANNEL_WEB",
    locationIds: ["DC-1", "ST-1"],
  });
}, 120_000);
afterAll(async () => mesh?.stopAll(), 60_000);

let keys = 0;
const get = (path: string) => mesh.call("GET", path, { key });
const post = (path: string, body: unknown) =>
  mesh.call("POST", path, { key, body, idempotencyKey: uniqueName(`k${++keys}`) });
const put = (path: string, body: unknown) =>
  mesh.call("PUT", path, { key, body, idempotencyKey: uniqueName(`k${++keys}`) });
async function receive(sku: string, locationId: string, quantity: number) {
  expect((await post("/v1/movements", receiptJson(sku, locationId, quantity))).status).toBe(200);
}

async function submitOrder(sku: string, quantity: number, line: Record<string, string> = {}) {
  const answer = await post("/v1/orders", orderJson(sku, { quantity, line }));
  expect(answer.status, JSON.stringify(answer.json)).toBe(200);
  return answer.json.order;
}

describe("inventory over REST", () => {
  it("records movements and answers positions and availability by SKU, location and channel", async () => {
    const sku = uniqueName("SKU");
    await receive(sku, "DC-1", 7);
    await receive(sku, "ST-1", 3);
    const position = await get(`/v1/locations/DC-1/skus/${sku}/position`);
    expect(position.json.position).toMatchObject({ sku, locationId: "DC-1", onHand: "7", available: "7" });
    await until(async () => {
      const all = await get(`/v1/skus/${sku}/availability`);
      expect(all.json.availability.map((a: { available: string }) => a.available).sort()).toEqual(["3", "7"]);
    });
    const atStore = await get(`/v1/locations/ST-1/skus/${sku}/availability`);
    expect(atStore.json.availability).toEqual([
      expect.objectContaining({ locationId: "ST-1", available: "3" }),
    ]);
    const forChannel = await get(`/v1/channels/web/skus/${sku}/availability?channel=CHANNEL_WEB`);
    // Per location, then the channel's total over the locations that feed it.
    expect(
      forChannel.json.availability.map((a: { locationId: string; available: string }) => [
        a.locationId,
        a.available,
      ]),
    ).toEqual([
      ["DC-1", "7"],
      ["ST-1", "3"],
      ["", "10"],
    ]);
    const batch = await post("/v1/availability:batchGet", { requests: [{ sku, locationId: "DC-1" }] });
    expect(batch.json.availability).toEqual([
      expect.objectContaining({ sku, locationId: "DC-1", available: "7" }),
    ]);
    const locations = await get("/v1/locations");
    expect(locations.json.locations.map((l: { locationId: string }) => l.locationId).sort()).toEqual([
      "DC-1",
      "ST-1",
    ]);
    expect((await get("/v1/channelRules")).json.rules).toHaveLength(1);
  });
});

describe("customers over REST", () => {
  it("upserts from sources, gets, looks up, merges, records consent and erases", async () => {
    const n = uniqueName("cust");
    const email = `${n}@example.com`;
    const first = await post("/v1/customers:upsertFromSource", {
      sourceRecord: {
        sourceSystem: "shopify-web",
        sourceId: `a-${n}`,
        email,
        givenName: "Ada",
        familyName: "Byron",
      },
    });
    expect(first.json).toMatchObject({
      created: true,
      customer: { email, status: "CUSTOMER_STATUS_ACTIVE" },
    });
    const id = first.json.customer.customerId;
    const same = await post("/v1/customers:upsertFromSource", {
      sourceRecord: {
        sourceSystem: "pos",
        sourceId: `p-${n}`,
        email: email.toUpperCase(),
        familyName: "Byron",
      },
    });
    expect(same.json).toMatchObject({ created: false, customer: { customerId: id } });
    expect((await get(`/v1/customers/${id}`)).json.customer.sourceLinks).toHaveLength(2);
    expect(
      (await get(`/v1/customers:lookup?email=${encodeURIComponent(email)}`)).json.customer.customerId,
    ).toBe(id);
    expect(
      (await get(`/v1/customers:lookup?source.sourceSystem=pos&source.sourceId=p-${n}`)).json.customer
        .customerId,
    ).toBe(id);

    const other = await post("/v1/customers:upsertFromSource", {
      sourceRecord: {
        sourceSystem: "service-desk",
        sourceId: `c-${n}`,
        email: `other-${email}`,
        familyName: "Lovelace",
      },
    });
    expect(other.status, JSON.stringify(other.json)).toBe(200);
    const otherId = other.json.customer.customerId;
    const merged = await post(`/v1/customers/${id}:merge`, { mergedCustomerIds: [otherId] });
    expect(merged.status, JSON.stringify(merged.json)).toBe(200);
    expect((await get(`/v1/customers/${otherId}`)).json.customer.customerId).toBe(id);

    const consent = await post(`/v1/customers/${id}:updateConsent`, {
      consent: {
        purpose: "CONSENT_PURPOSE_MARKETING_EMAIL",
        channel: "CHANNEL_WEB",
        status: "CONSENT_STATUS_DENIED",
        sourceSystem: "shopify-web",
        changeTime: new Date().toISOString(),
      },
    });
    expect(consent.status, JSON.stringify(consent.json)).toBe(200);
    expect(consent.json.customer.consents).toEqual([
      expect.objectContaining({
        purpose: "CONSENT_PURPOSE_MARKETING_EMAIL",
        status: "CONSENT_STATUS_DENIED",
      }),
    ]);
    // The gateway logs every call, never the personal data in its body or query string.
    expect(mesh.logs()).toContain('"route":"GET /v1/customers:lookup"');
    expect(mesh.logs()).not.toContain(n);
    expect((await post(`/v1/customers/${id}:erase`, { reason: "GDPR request" })).json).toEqual({
      customerId: id,
    });
    const erased = await get(`/v1/customers/${id}`);
    expect(JSON.stringify(erased.json)).not.toContain(n);
  });
});

describe("orders and finance over REST", () => {
  it("submits, lists, pays, ships, hands over at a store, returns and cancels orders, and reads what finance posted", async () => {
    const sku = uniqueName("SKU");
    await receive(sku, "DC-1", 10);
    const order = await submitOrder(sku, 2);
    expect(order).toMatchObject({
      status: "ORDER_STATUS_ACCEPTED",
      channel: "CHANNEL_WEB",
      grandTotal: { currencyCode: "USD" },
    });
    const orderId: string = order.orderId;
    expect((await get(`/v1/orders/${orderId}`)).json.order.orderId).toBe(orderId);
    const listed = await get(`/v1/orders?channel=CHANNEL_WEB&customerId=${order.customerId}`);
    expect(listed.json.orders.map((o: { orderId: string }) => o.orderId)).toEqual([orderId]);

    const paid = await post(`/v1/orders/${orderId}/paymentEvents`, {
      paymentEventId: uniqueName("cap"),
      type: "PAYMENT_EVENT_TYPE_CAPTURE",
      outcome: "PAYMENT_OUTCOME_APPROVED",
      amount: order.grandTotal,
      provider: "stripe",
      providerReference: `ch_${orderId}`,
    });
    expect(paid.status, JSON.stringify(paid.json)).toBe(200);
    const shipped = await post(`/v1/orders/${orderId}/shipments`, {
      shipmentId: "S1",
      carrier: "UPS",
      trackingNumber: "1Z",
      lines: [{ lineId: "1", quantity: "2" }],
    });
    expect(shipped.json.order.status).toBe("ORDER_STATUS_FULFILLED"); // every unit shipped
    const returned = await post(`/v1/orders/${orderId}/returns`, {
      returnId: "R1",
      locationId: "DC-1",
      lines: [{ lineId: "1", quantity: "1", condition: "RETURN_CONDITION_RESTOCK" }],
    });
    expect(returned.status, JSON.stringify(returned.json)).toBe(200);

    await receive(sku, "ST-1", 2);
    const pickup = await submitOrder(sku, 1, {
      fulfillmentType: "FULFILLMENT_TYPE_PICKUP_IN_STORE",
      fulfillmentLocationId: "ST-1",
    });
    const ready = await post(`/v1/orders/${pickup.orderId}:markReadyForPickup`, {
      collectByTime: new Date(Date.now() + 86_400_000).toISOString(),
    });
    expect(ready.status, JSON.stringify(ready.json)).toBe(200);
    const collected = await post(`/v1/orders/${pickup.orderId}:recordPickup`, {});
    expect(collected.json.order.status).toBe("ORDER_STATUS_FULFILLED");

    const second = await submitOrder(sku, 1);
    const cancelled = await post(`/v1/orders/${second.orderId}:cancel`, { reason: "customer asked" });
    expect(cancelled.json.order.status).toBe("ORDER_STATUS_CANCELLED");

    const entries = await until(async () => {
      const answer = await get(`/v1/journalEntries?orderId=${orderId}&pageSize=50`);
      expect(answer.json.entries.length).toBeGreaterThanOrEqual(2); // the capture and the delivery at least
      return answer.json.entries;
    });
    const periodId: string = entries[0].periodId;
    expect((await get(`/v1/journalEntries/${entries[0].entryId}`)).json.entry.entryId).toBe(
      entries[0].entryId,
    );
    const trial = await get(`/v1/periods/${periodId}/trialBalance`);
    const rows: Array<{ debitTotal: { minorUnits: string }; creditTotal: { minorUnits: string } }> =
      trial.json.trialBalance.rows;
    const sum = (pick: (r: (typeof rows)[number]) => string) =>
      rows.reduce((s, r) => s + BigInt(pick(r)), 0n);
    expect(sum((r) => r.debitTotal.minorUnits)).toBe(sum((r) => r.creditTotal.minorUnits));
    expect((await get("/v1/periods")).json.periods.map((p: { periodId: string }) => p.periodId)).toContain(
      periodId,
    );

    const settlementId = uniqueName("po");
    const settlement = await post("/v1/settlements", {
      settlementId,
      provider: "stripe",
      currencyCode: "USD",
      payoutDate: new Date().toISOString().slice(0, 10),
      payoutAmount: order.grandTotal,
      lines: [
        {
          lineId: "1",
          type: "SETTLEMENT_LINE_TYPE_CAPTURE",
          providerReference: `ch_${orderId}`,
          orderId,
          amount: order.grandTotal,
        },
        {
          lineId: "2",
          type: "SETTLEMENT_LINE_TYPE_PAYOUT",
          amount: { currencyCode: "USD", minorUnits: `-${order.grandTotal.minorUnits}` },
        },
      ],
    });
    expect(settlement.status, JSON.stringify(settlement.json)).toBe(200);
    expect(settlement.json.items.map((i: { status: string }) => i.status)).toEqual([
      "RECONCILIATION_STATUS_MATCHED",
      "RECONCILIATION_STATUS_MATCHED",
    ]);
    const recon = await get(`/v1/settlements/${settlementId}/reconciliation`);
    expect(recon.json.reconciliationRateBps).toBe(10_000);
    const missing = await get("/v1/settlements/po-nope/reconciliation");
    expect(missing.status).toBe(404);
    expect(missing.json.details[0]).toMatchObject({
      "@type": "type.googleapis.com/google.rpc.ErrorInfo",
      reason: "SETTLEMENT_NOT_FOUND",
    });
  });
});

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
    expect(first.json.order).toMatchObject({
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

describe("the OpenAPI document", () => {
  it("is a valid OpenAPI 3.1 document describing exactly the routes the gateway serves", async () => {
    const answer = await fetch(`${mesh.url}/openapi.json`);
    const doc = (await answer.json()) as OpenApiDoc;
    const result = await new Validator().validate(doc as unknown as Record<string, unknown>);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(doc.openapi).toBe("3.1.0");
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((v) => `${v.toUpperCase()} ${path}`),
    );
    const served = createRouteTable([
      CustomerIdentityService,
      InventoryService,
      OrderService,
      FinancePostingService,
    ]).routes.map((r) => `${r.binding.verb} ${r.binding.template.source}`);
    expect(documented.sort()).toEqual(served.sort());
    const page = await fetch(`${mesh.url}/docs`);
    expect(await page.text()).toContain("swagger-ui-bundle.js");
    expect((await fetch(`${mesh.url}/docs/swagger-ui-bundle.js`)).status).toBe(200);
  });

  it("drives a client that calls operations by operationId, and every answer matches its schema", async () => {
    const doc = (await (await fetch(`${mesh.url}/openapi.json`)).json()) as OpenApiDoc;
    const api = new OpenAPIClientAxios({
      definition: doc as never,
      axiosConfigDefaults: { baseURL: mesh.url, headers: { "X-Api-Key": key }, validateStatus: () => true },
    });
    const client = await api.init();
    const ajv = new Ajv2020({ strict: false });
    formats.default(ajv); // a CommonJS module: its function is the default export
    ajv.addSchema(doc, "openapi.json");
    const conforms = (path: string, verb: string, status: string, body: unknown) => {
      const pointer = `openapi.json#/paths/${path.replaceAll("~", "~0").replaceAll("/", "~1")}/${verb}/responses/${status}/content/application~1json/schema`;
      const validate = ajv.compile({ $ref: pointer });
      expect(validate(body), JSON.stringify(validate.errors)).toBe(true);
    };

    const locations = await client.InventoryService_ListLocations?.();
    expect(locations?.status).toBe(200);
    conforms("/v1/locations", "get", "200", locations?.data);

    const n = uniqueName("oa");
    const upsert = await client.CustomerIdentityService_UpsertFromSource?.(
      undefined,
      {
        sourceRecord: {
          sourceSystem: "mobile-app",
          sourceId: n,
          email: `${n}@example.com`,
          familyName: "Client",
        },
      },
      { headers: { "Idempotency-Key": n } },
    );
    expect(upsert?.status).toBe(200);
    conforms("/v1/customers:upsertFromSource", "post", "200", upsert?.data);

    const customer = await client.CustomerIdentityService_GetCustomer?.({
      customer_id: upsert?.data.customer.customerId,
    });
    expect(customer?.data.customer.email).toBe(`${n}@example.com`);
    conforms("/v1/customers/{customer_id}", "get", "200", customer?.data);

    const sku = uniqueName("SKU");
    await receive(sku, "ST-1", 4);
    const availability = await client.InventoryService_GetAvailability_1?.({ location_id: "ST-1", sku });
    expect(availability?.data.availability).toEqual([expect.objectContaining({ sku, available: "4" })]);
    conforms("/v1/locations/{location_id}/skus/{sku}/availability", "get", "200", availability?.data);

    const refused = await client.OrderService_GetOrder?.({ order_id: "ord-missing" });
    expect(refused?.status).toBe(404);
    conforms("/v1/orders/{order_id}", "get", "default", refused?.data);
  });
});

interface OpenApiDoc {
  openapi: string;
  paths: Record<string, Record<string, unknown>>;
}

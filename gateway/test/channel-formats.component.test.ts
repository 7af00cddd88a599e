// The channel formats the gateway takes besides REST, over HTTP through the real gateway to the real
// services, from real public samples: Shopify and Stripe webhooks (signed), Amazon settlement reports
// and X12 850 purchase orders (posted with an API key).
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { timestampDate, timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  OrderDriftDetectedSchema,
  OrderDriftResolvedSchema,
} from "@retail/contracts/retail/operations/v1/operations_events_pb";
import { OrderStatus } from "@retail/contracts/retail/order/v1/order_pb";
import { startTcpProxy, testMongoUrl, uniqueName, until } from "@retail/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { settlementColumns, settlementRow } from "./bodies.js";
import { type GatewayMesh, startGatewayMesh } from "./harness.js";
import { reasonOf, restClient, sha256 } from "./rest-client.js";

const key = "admin-test-key";
const stripeSecret = "whsec_channel_formats_test_secret";
// The endpoint's next secret, listed beside the current one while Stripe rolls it.
const stripeRolledSecret = "whsec_channel_formats_rolled_secret";
const stripeFixtures = new URL("./fixtures/stripe/", import.meta.url);
const shopifyFixtures = new URL("./fixtures/shopify/", import.meta.url);
const shopifyBody = readFileSync(new URL("orders-create.webhook.json", shopifyFixtures));
const shopifyVector = JSON.parse(readFileSync(new URL("hmac-test-vector.json", shopifyFixtures), "utf8")) as {
  secret: string;
  headers: Record<string, string>;
};
let mesh: GatewayMesh;
const { get, post, put, receive, submitOrder, setUpLocations } = restClient(() => mesh, key);

beforeAll(async () => {
  mesh = await startGatewayMesh(
    "formats",
    {
      clients: [
        {
          id: "ops",
          apiKeySha256: [sha256(key)],
          scopes: ["*"],
          rateLimit: { requestsPerSecond: 1000, burst: 1000 },
        },
        {
          id: "shopify-web",
          scopes: ["order:write", "customer:write", "inventory:write"],
          channel: "CHANNEL_WEB",
        },
        { id: "stripe", scopes: ["order:write", "finance:write"] },
        { id: "xyz-retail", apiKeySha256: [sha256("xyz-key")], scopes: ["order:*"], channel: "CHANNEL_B2B" },
        { id: "dc-wms", apiKeySha256: [sha256("wms-key")], scopes: ["order:*", "inventory:write"] },
        { id: "dc2-wms", apiKeySha256: [sha256("wms2-key")], scopes: ["order:*"] },
        { id: "store-till", apiKeySha256: [sha256("till-key")], scopes: ["order:*"], channel: "CHANNEL_POS" },
        {
          id: "amazon-seller",
          apiKeySha256: [sha256("amazon-key")],
          scopes: ["order:*"],
          channel: "CHANNEL_MARKETPLACE",
          channelId: "amazon-us",
        },
      ],
      shopifyShops: [
        {
          shopDomain: shopifyVector.headers["X-Shopify-Shop-Domain"],
          webhookSecret: shopifyVector.secret,
          clientId: "shopify-web",
          channelId: "web",
          locations: { "24826418": "DC-1" },
        },
      ],
      stripeEndpoints: [
        { webhookSecret: stripeSecret, clientId: "stripe" },
        { webhookSecret: stripeRolledSecret, clientId: "stripe" },
      ],
      x12Partners: [{ senderId: "4405197800", clientId: "xyz-retail", channelId: "b2b", taxCode: "exempt" }],
      x12Warehouses: [
        { senderId: "WMS0000001", clientId: "dc-wms", locationId: "DC-1", orderChannelId: "b2b" },
        { senderId: "WMS0000002", clientId: "dc2-wms", locationId: "DC-1", orderChannelId: "b2b" },
      ],
      posStores: [{ storeId: "ST-1", clientId: "store-till", locationId: "ST-1" }],
      amazonMarketplaces: [
        { marketplaceId: "ATVPDKIKX0DER", clientId: "amazon-seller", channelId: "amazon-us" },
      ],
    },
    {},
    "warn",
    // Order drift raised after 1.5 s instead of ten minutes, compared every 200 ms.
    { DRIFT_GRACE_MS: "1500", DRIFT_SWEEP_MS: "200" },
  );
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
    const cart = Buffer.from('{"id": "c1"}');
    const signature = createHmac("sha256", shopifyVector.secret).update(cart).digest("base64");
    const ignored = await deliver(cart, {
      ...shopifyVector.headers,
      "X-Shopify-Topic": "carts/update",
      "X-Shopify-Hmac-Sha256": signature,
    });
    expect([ignored.status, ignored.json.ignored]).toEqual([202, 'topic "carts/update" is not handled']);
  });
});

describe("Shopify order updates", () => {
  const docsExample = (name: string) =>
    JSON.parse(readFileSync(new URL(name, shopifyFixtures), "utf8")) as Record<string, unknown>;
  /** Signs and posts a topic's body, each delivery with a webhook id of its own. */
  const deliver = async (topic: string, payload: unknown) => {
    const body = Buffer.from(typeof payload === "string" ? payload : JSON.stringify(payload));
    const answer = await fetch(`${mesh.url}/webhooks/shopify`, {
      method: "POST",
      headers: {
        ...shopifyVector.headers,
        "X-Shopify-Topic": topic,
        "X-Shopify-Webhook-Id": uniqueName("wh"),
        "X-Shopify-Hmac-Sha256": createHmac("sha256", shopifyVector.secret).update(body).digest("base64"),
      },
      body: new Uint8Array(body),
    });
    // biome-ignore lint/suspicious/noExplicitAny: tests read JSON answers freely
    return { status: answer.status, json: (await answer.json()) as Record<string, any> };
  };
  /** The sample orders/create under a Shopify order id of the test's own. */
  const newShopifyOrder = async () => {
    const id = String(820982911900000000 + Math.floor(Math.random() * 99_999_999));
    const created = await deliver(
      "orders/create",
      shopifyBody.toString("utf8").replaceAll("820982911946154508", id),
    );
    expect(created.status, JSON.stringify(created.json)).toBe(200);
    expect(created.json.order.status).toBe("ORDER_STATUS_ACCEPTED");
    return { id, order: created.json.order };
  };
  const paidNotice = (id: string, totalPrice: string) => ({
    ...docsExample("orders-paid.webhook.docs-example.json"),
    id: Number(id),
    admin_graphql_api_id: `gid://shopify/Order/${id}`,
    total_price: totalPrice,
  });
  const refundNotice = (id: string, refundId: string, items: unknown[], amounts: string[]) => {
    const sample = docsExample("refunds-create.webhook.docs-example.json");
    const transaction = (sample.transactions as Array<Record<string, unknown>>)[0];
    return {
      ...sample,
      id: Number(refundId),
      admin_graphql_api_id: `gid://shopify/Refund/${refundId}`,
      order_id: id,
      refund_line_items: items,
      transactions: amounts.map((amount, i) => ({ ...transaction, id: Number(refundId) + i, amount })),
    };
  };
  const lineItem = (lineItemId: string, restock: string, extra: Record<string, unknown> = {}) => ({
    line_item_id: lineItemId,
    quantity: 1,
    restock_type: restock,
    location_id: null,
    line_item: { admin_graphql_api_id: `gid://shopify/LineItem/${lineItemId}`, sku: "IPOD2008PINK" },
    ...extra,
  });

  it("records the payment and a refund that came first, once each, and both reach the ledger", async () => {
    await receive("IPOD2008PINK", "DC-1", 2);
    const { id, order } = await newShopifyOrder();
    const refund = refundNotice(
      id,
      "700000000000000001",
      [lineItem("866550311766439020", "no_restock")],
      ["40.00", "10.00"],
    );
    // The refund notice overtook the payment notice: refused with the rule, so Shopify sends it again.
    const early = await deliver("refunds/create", refund);
    expect([early.status, reasonOf(early.json)]).toEqual([400, "REFUND_EXCEEDS_CAPTURED"]);
    const paid = await deliver("orders/paid", paidNotice(id, "426.58"));
    expect(paid.status, JSON.stringify(paid.json)).toBe(200);
    expect(paid.json.order.capturedTotal).toEqual({ currencyCode: "USD", minorUnits: "42658" });
    expect((await deliver("orders/paid", paidNotice(id, "426.58"))).json.order.capturedTotal.minorUnits).toBe(
      "42658",
    );
    for (let i = 0; i < 2; i++) {
      const again = await deliver("refunds/create", refund);
      expect(again.status, JSON.stringify(again.json)).toBe(200);
      expect(again.json.order.refundedTotal).toEqual({ currencyCode: "USD", minorUnits: "5000" });
    }
    const events = (await get(`/v1/orders/${order.orderId}`)).json.order.paymentEvents;
    expect(
      events.map((e: { type: string; amount: { minorUnits: string }; providerReference: string }) => [
        e.type,
        e.amount.minorUnits,
        e.providerReference,
      ]),
    ).toEqual([
      ["PAYMENT_EVENT_TYPE_CAPTURE", "42658", id],
      ["PAYMENT_EVENT_TYPE_REFUND", "5000", id],
    ]);
    const sources = await until(
      async () => {
        const entries = (await get(`/v1/journalEntries?orderId=${order.orderId}&pageSize=50`)).json.entries;
        const types = entries.map((e: { source: { eventType: string } }) => e.source.eventType);
        expect(types).toEqual(
          expect.arrayContaining(["retail.order.v1.PaymentCaptured", "retail.order.v1.RefundIssued"]),
        );
        return types;
      },
      { timeout: 20_000, interval: 250 },
    );
    // Posted once each, however often the notices came.
    expect(sources.filter((t: string) => t === "retail.order.v1.RefundIssued")).toHaveLength(1);
    expect(sources.filter((t: string) => t === "retail.order.v1.PaymentCaptured")).toHaveLength(1);
    // The refund names its line item: each of its journal lines carries the line's SKU.
    const refundEntry = (
      await get(`/v1/journalEntries?orderId=${order.orderId}&pageSize=50`)
    ).json.entries.find(
      (e: { source: { routingKey: string } }) => e.source.routingKey === "order.refund_issued",
    );
    expect(refundEntry.lines.map((l: { sku: string }) => l.sku)).toEqual(
      refundEntry.lines.map(() => "IPOD2008PINK"),
    );
    expect(refundEntry.lines.length).toBeGreaterThan(1);
  });

  it("cancels a line refunded before fulfilment, releasing its stock, and a cancelled order, once", async () => {
    const sku = "IPOD2008PINK";
    await receive(sku, "DC-1", 4);
    const before = (await get(`/v1/locations/DC-1/skus/${sku}/position`)).json.position;
    const { id, order } = await newShopifyOrder();
    expect((await deliver("orders/paid", paidNotice(id, "426.58"))).status).toBe(200);
    const refund = refundNotice(
      id,
      "700000000000000002",
      [lineItem("866550311766439020", "cancel")],
      ["213.29"],
    );
    const cancelled = await deliver("refunds/create", refund);
    expect(cancelled.status, JSON.stringify(cancelled.json)).toBe(200);
    const line = (o: { lines: Array<{ lineId: string; status: string }> }, lineId: string) =>
      o.lines.find((l) => l.lineId === lineId)?.status;
    expect(line(cancelled.json.order, "866550311766439020")).toBe("LINE_STATUS_CANCELLED");
    expect(line(cancelled.json.order, "141249953214522974")).not.toBe("LINE_STATUS_CANCELLED");
    expect(cancelled.json.order.refundedTotal.minorUnits).toBe("21329");
    expect((await deliver("refunds/create", refund)).json.order.refundedTotal.minorUnits).toBe("21329");
    const position = await until(async () => {
      const p = (await get(`/v1/locations/DC-1/skus/${sku}/position`)).json.position;
      expect(BigInt(p.reserved)).toBe(BigInt(before.reserved) + 1n);
      return p;
    });
    expect(BigInt(position.onHand)).toBe(BigInt(before.onHand));

    const whole = docsExample("orders-paid.webhook.docs-example.json");
    const notice = {
      ...whole,
      id: Number(id),
      admin_graphql_api_id: `gid://shopify/Order/${id}`,
      cancel_reason: "customer",
    };
    for (let i = 0; i < 2; i++) {
      const answer = await deliver("orders/cancelled", notice);
      expect(answer.status, JSON.stringify(answer.json)).toBe(200);
      expect(answer.json.order.status).toBe("ORDER_STATUS_CANCELLED");
    }
    expect((await get(`/v1/orders/${order.orderId}`)).json.order.status).toBe("ORDER_STATUS_CANCELLED");
  });

  it("books goods a refund restocks back at the shop location's mesh location, once", async () => {
    const sku = "IPOD2008PINK";
    await receive(sku, "DC-1", 2);
    const { id, order } = await newShopifyOrder();
    expect((await deliver("orders/paid", paidNotice(id, "426.58"))).status).toBe(200);
    const onHand = async () =>
      BigInt((await get(`/v1/locations/DC-1/skus/${sku}/position`)).json.position.onHand);
    // Read before the shipment: inventory books the shipment from its event, a moment after.
    const before = await onHand();
    const shipped = await post(`/v1/orders/${order.orderId}/shipments`, {
      shipmentId: `S-${id}`,
      fromLocationId: "DC-1",
      carrier: "UPS",
      trackingNumber: `1Z${id}`,
      lines: order.lines.map((l: { lineId: string }) => ({ lineId: l.lineId, quantity: "1" })),
    });
    expect(shipped.json.order?.status, JSON.stringify(shipped.json)).toBe("ORDER_STATUS_FULFILLED");
    const refund = refundNotice(
      id,
      "700000000000000004",
      [lineItem("141249953214522974", "return", { location_id: 24826418 })],
      ["213.29"],
    );
    for (let i = 0; i < 2; i++) {
      const answer = await deliver("refunds/create", refund);
      expect(answer.status, JSON.stringify(answer.json)).toBe(200);
      expect(answer.json.order.returns).toHaveLength(1);
      expect(answer.json.order.returns[0]).toMatchObject({
        returnId: "shopify-refund-700000000000000004",
        locationId: "DC-1",
        lines: [{ lineId: "141249953214522974", quantity: "1", condition: "RETURN_CONDITION_RESTOCK" }],
      });
      expect(answer.json.order.refundedTotal.minorUnits).toBe("21329");
    }
    // Two units shipped, one came back to sellable stock.
    await until(async () => expect(await onHand()).toBe(before - 1n));
  });

  it("applies nothing from a notice it cannot journal: the journal's storage away answers 503 and Shopify sends it again", async () => {
    await receive("IPOD2008PINK", "DC-1", 2);
    const mongo = new URL(testMongoUrl());
    const proxy = await startTcpProxy({ host: mongo.hostname, port: Number(mongo.port || 27017) });
    try {
      mongo.hostname = "127.0.0.1";
      mongo.port = String(proxy.port);
      // A gateway replica whose storage (journal, keys) is reached through the proxy.
      const replica = await mesh.startReplica({ MONGODB_URL: mongo.toString() });
      const id = String(820982911800000000 + Math.floor(Math.random() * 99_999_999));
      const body = Buffer.from(shopifyBody.toString("utf8").replaceAll("820982911946154508", id));
      const send = () =>
        fetch(`${replica.url}/webhooks/shopify`, {
          method: "POST",
          headers: {
            ...shopifyVector.headers,
            "X-Shopify-Topic": "orders/create",
            "X-Shopify-Webhook-Id": uniqueName("wh"),
            "X-Shopify-Hmac-Sha256": createHmac("sha256", shopifyVector.secret).update(body).digest("base64"),
          },
          body: new Uint8Array(body),
        });
      await proxy.cut();
      expect((await send()).status).toBe(503);
      const lookup = () => get(`/v1/orders:lookup?channel=CHANNEL_WEB&channelId=web&channelOrderId=${id}`);
      expect((await lookup()).status).toBe(404);
      await proxy.restore();
      await until(async () => expect((await send()).status).toBe(200), { timeout: 30_000, interval: 500 });
      expect((await lookup()).json.order.channelOrderId).toBe(id);
    } finally {
      await proxy.close();
    }
  }, 60_000);

  it("journals each notice as it came and what became of it, and replays a refund that came too early once the payment is in", async () => {
    const since = new Date().toISOString();
    await receive("IPOD2008PINK", "DC-1", 2);
    const { id, order } = await newShopifyOrder();
    const refund = refundNotice(
      id,
      "700000000000000009",
      [lineItem("866550311766439020", "no_restock")],
      ["40.00"],
    );
    expect((await deliver("refunds/create", refund)).status).toBe(400);
    const failed = await get(`/v1/inboundMessages?channel=shopify&failedOnly=true&since=${since}`);
    expect(failed.json.messages).toHaveLength(1);
    const early = failed.json.messages[0];
    expect(early).toMatchObject({
      endpoint: "/webhooks/shopify",
      channel: "shopify",
      clientId: "shopify-web",
      verification: "VERIFICATION_SIGNATURE",
      statusCode: 400,
      bodyTruncated: false,
      headers: expect.objectContaining({ "x-shopify-topic": "refunds/create" }),
    });
    expect(early.channelMessageId).toMatch(/^wh_/);
    expect(early.outcome).toContain("REFUND_EXCEEDS_CAPTURED");
    expect(early.correlationId).not.toBe("");
    const full = (await get(`/v1/inboundMessages/${early.messageId}`)).json.message;
    expect(JSON.parse(Buffer.from(full.body, "base64").toString("utf8"))).toEqual(refund);
    // The order it made names its customer (erasure finds the message by it).
    const all = await get(`/v1/inboundMessages?channel=shopify&since=${since}`);
    const created = all.json.messages.find(
      (m: { headers: Record<string, string> }) => m.headers["x-shopify-topic"] === "orders/create",
    );
    expect([created?.statusCode, created?.customerIds]).toEqual([200, [order.customerId]]);

    expect((await deliver("orders/paid", paidNotice(id, "426.58"))).status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const replayed = await post(`/v1/inboundMessages/${early.messageId}:replay`, {});
      expect(replayed.status, JSON.stringify(replayed.json)).toBe(200);
      expect(replayed.json.message).toMatchObject({
        statusCode: 200,
        replayOf: early.messageId,
        replayedBy: "gateway:ops",
        verification: "VERIFICATION_SIGNATURE",
        customerIds: [order.customerId],
      });
    }
    // Applied once, however often it is replayed.
    const after = (await get(`/v1/orders/${order.orderId}`)).json.order;
    expect(after.refundedTotal).toEqual({ currencyCode: "USD", minorUnits: "4000" });
  });

  it("journals a notice whose signature does not verify, cut to 4 KiB, never replays it, and shows the journal to operators only", async () => {
    const since = new Date().toISOString();
    const forged = Buffer.from(JSON.stringify({ id: 1, note: "x".repeat(10_000) }));
    const refused = await fetch(`${mesh.url}/webhooks/shopify`, {
      method: "POST",
      headers: {
        ...shopifyVector.headers,
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Hmac-Sha256": "Zm9yZ2Vk",
      },
      body: new Uint8Array(forged),
    });
    expect(refused.status).toBe(401);
    const listed = await get(`/v1/inboundMessages?channel=shopify&failedOnly=true&since=${since}`);
    expect(listed.json.messages).toEqual([
      expect.objectContaining({
        verification: "VERIFICATION_REFUSED",
        clientId: "",
        statusCode: 401,
        bodySize: String(forged.length),
        bodyTruncated: true,
      }),
    ]);
    const messageId = listed.json.messages[0].messageId;
    const kept = (await get(`/v1/inboundMessages/${messageId}`)).json.message;
    expect(Buffer.from(kept.body, "base64")).toEqual(forged.subarray(0, 4096));
    const replay = await post(`/v1/inboundMessages/${messageId}:replay`, {});
    expect([replay.status, reasonOf(replay.json)]).toEqual([400, "REPLAY_REFUSED"]);
    const channelClient = await mesh.call("GET", "/v1/inboundMessages", { key: "xyz-key" });
    expect(channelClient.status).toBe(403);
  });

  it("records a shop's fulfillment as a shipment of its lines, once, however often orders/fulfilled comes", async () => {
    await receive("IPOD2008PINK", "DC-1", 2);
    const { id, order } = await newShopifyOrder();
    const created = JSON.parse(shopifyBody.toString("utf8").replaceAll("820982911946154508", id));
    const [first] = created.line_items;
    const fulfillmentId = String(255858000 + Math.floor(Math.random() * 99_999));
    const notice = {
      ...created,
      fulfillment_status: "partial",
      fulfillments: [
        {
          id: Number(fulfillmentId),
          admin_graphql_api_id: `gid://shopify/Fulfillment/${fulfillmentId}`,
          status: "success",
          location_id: 24826418,
          tracking_company: "UPS",
          tracking_number: "1Z999",
          created_at: "2026-11-27T10:00:00-05:00",
          line_items: [first],
        },
      ],
    };
    for (let i = 0; i < 2; i++) {
      const answer = await deliver("orders/fulfilled", notice);
      expect(answer.status, JSON.stringify(answer.json)).toBe(200);
      expect(answer.json.order.shipments).toEqual([
        expect.objectContaining({
          shipmentId: `shopify-fulfillment-${fulfillmentId}`,
          carrier: "UPS",
          trackingNumber: "1Z999",
          fromLocationId: "DC-1",
          lines: [{ lineId: "866550311766439020", quantity: "1" }],
        }),
      ]);
    }
    const after = (await get(`/v1/orders/${order.orderId}`)).json.order;
    expect(
      after.lines.map((l: { lineId: string; shippedQuantity: string }) => [l.lineId, l.shippedQuantity]),
    ).toEqual([
      ["866550311766439020", "1"],
      ["141249953214522974", "0"],
    ]);
  });

  it("finds a storefront still showing a shipped order unfulfilled, raises it after the grace period, and clears it when the storefront catches up", async () => {
    await receive("IPOD2008PINK", "DC-1", 2);
    const capture = await mesh.capture(["operations.#"]);
    const id = String(820982911900000000 + Math.floor(Math.random() * 99_999_999));
    const shown = (fulfillment: string | null, updatedAt: string) => ({
      ...JSON.parse(shopifyBody.toString("utf8").replaceAll("820982911946154508", id)),
      cancelled_at: null,
      fulfillment_status: fulfillment,
      updated_at: updatedAt,
    });
    const t0 = new Date(Date.now() - 60_000);
    const created = await deliver("orders/create", shown(null, t0.toISOString()));
    expect(created.status, JSON.stringify(created.json)).toBe(200);
    const order = created.json.order;
    const views = async () => (await get(`/v1/channelOrderViews?orderId=${order.orderId}`)).json.views;
    expect(await views()).toEqual([
      expect.objectContaining({
        channelId: "web",
        sourceSystem: expect.stringContaining("shopify"),
        channelOrderId: id,
        status: "ORDER_STATUS_ACCEPTED",
        meshStatus: "ORDER_STATUS_ACCEPTED",
        observeTime: t0.toISOString(),
      }),
    ]);
    expect((await views())[0].divergeTime).toBeUndefined();

    // The warehouse ships the whole order; the storefront is not told.
    const shipped = await post(`/v1/orders/${order.orderId}/shipments`, {
      shipmentId: uniqueName("S"),
      carrier: "UPS",
      trackingNumber: "1Z",
      lines: order.lines.map((l: { lineId: string; quantity: string }) => ({
        lineId: l.lineId,
        quantity: l.quantity,
      })),
    });
    expect(shipped.json.order?.status, JSON.stringify(shipped.json)).toBe("ORDER_STATUS_FULFILLED");
    const drifts = async (includeResolved: boolean) =>
      (
        await get(
          `/v1/operationalExceptions?kind=EXCEPTION_KIND_CHANNEL_ORDER_DRIFT&includeResolved=${includeResolved}&pageSize=200`,
        )
      ).json.exceptions.filter((e: { orderId: string }) => e.orderId === order.orderId);
    const [drift] = await until(async () => {
      const open = await drifts(false);
      expect(open).toHaveLength(1);
      return open;
    });
    expect(drift).toMatchObject({
      exceptionId: `order-drift:web/${order.orderId}`,
      subject: `web/${order.orderId}`,
      reason: "channel web shows the order ACCEPTED (shopify-web), the mesh FULFILLED",
    });
    const [detected] = capture.of(OrderDriftDetectedSchema).filter((e) => e.view?.orderId === order.orderId);
    expect(detected?.view).toMatchObject({ status: OrderStatus.ACCEPTED, meshStatus: OrderStatus.FULFILLED });
    const divergedAt = timestampDate(detected?.view?.divergeTime ?? timestampFromMs(0));
    expect(drift.since).toBe(divergedAt.toISOString());
    // Raised only once the difference had lasted the grace period (1.5 s here).
    const raisedAt = timestampDate(detected?.metadata?.occurredAt ?? timestampFromMs(0));
    expect(raisedAt.getTime() - divergedAt.getTime()).toBeGreaterThanOrEqual(1_500);

    // A stale notice (older than the view kept) changes nothing; the storefront catching up ends it.
    expect(
      (await deliver("orders/updated", shown(null, new Date(t0.getTime() - 1_000).toISOString()))).status,
    ).toBe(200);
    expect((await views())[0]).toMatchObject({
      observeTime: t0.toISOString(),
      status: "ORDER_STATUS_ACCEPTED",
    });
    const caughtUp = new Date(t0.getTime() + 30_000).toISOString();
    const updated = await deliver("orders/updated", shown("fulfilled", caughtUp));
    expect(updated.status, JSON.stringify(updated.json)).toBe(200);
    expect(await drifts(false)).toEqual([]);
    const [ended] = await drifts(true);
    expect(ended.resolveTime).toEqual(expect.any(String));
    expect((await views())[0]).toMatchObject({
      status: "ORDER_STATUS_FULFILLED",
      meshStatus: "ORDER_STATUS_FULFILLED",
    });
    await until(() =>
      expect(
        capture.of(OrderDriftResolvedSchema).filter((e) => e.view?.orderId === order.orderId),
      ).toHaveLength(1),
    );
    // Once each, and in the order's trace.
    expect(
      capture.of(OrderDriftDetectedSchema).filter((e) => e.view?.orderId === order.orderId),
    ).toHaveLength(1);
    const trace = await until(async () => {
      const events = (await get(`/v1/traces?orderId=${order.orderId}`)).json.events;
      expect(events.map((e: { routingKey: string }) => e.routingKey)).toContain(
        "operations.order_drift_resolved",
      );
      return events;
    });
    expect(trace.map((e: { routingKey: string }) => e.routingKey)).toContain(
      "operations.order_drift_detected",
    );
  });

  it("takes customers/create and customers/update into identity with their consents, once, an older update changing nothing", async () => {
    const sample = JSON.parse(shopifyBody.toString("utf8")).customer as Record<string, unknown>;
    const id = String(115310627300000000 + Math.floor(Math.random() * 9_999_999));
    const email = `${uniqueName("shopper")}@example.com`;
    const customer = (updatedAt: string, extra: Record<string, unknown>) => ({
      ...sample,
      id: Number(id),
      admin_graphql_api_id: `gid://shopify/Customer/${id}`,
      email,
      updated_at: updatedAt,
      ...extra,
    });
    const created = customer("2026-11-20T10:00:00Z", {
      email_marketing_consent: { state: "subscribed", consent_updated_at: "2026-11-20T10:00:00Z" },
    });
    const first = await deliver("customers/create", created);
    expect(first.status, JSON.stringify(first.json)).toBe(200);
    const customerId = first.json.customer.customerId;
    expect(first.json.customer).toMatchObject({
      email,
      givenName: "John",
      familyName: "Smith",
      sourceLinks: [expect.objectContaining({ sourceSystem: "shopify-web", sourceId: id })],
      consents: [
        expect.objectContaining({
          purpose: "CONSENT_PURPOSE_MARKETING_EMAIL",
          status: "CONSENT_STATUS_GRANTED",
        }),
      ],
    });
    expect((await deliver("customers/create", created)).json.customer.customerId).toBe(customerId);
    const updated = await deliver(
      "customers/update",
      customer("2026-11-21T10:00:00Z", {
        last_name: "Smythe",
        email_marketing_consent: { state: "unsubscribed", consent_updated_at: "2026-11-21T10:00:00Z" },
      }),
    );
    expect(updated.json.customer).toMatchObject({ customerId, familyName: "Smythe" });
    // An update Shopify observed before the last one, delivered late: the newer state stands.
    await deliver("customers/update", customer("2026-11-20T12:00:00Z", { last_name: "Smithers" }));
    const now = (await get(`/v1/customers/${customerId}`)).json.customer;
    expect(now.familyName).toBe("Smythe");
    expect(now.consents.map((c: { purpose: string; status: string }) => [c.purpose, c.status])).toEqual([
      ["CONSENT_PURPOSE_MARKETING_EMAIL", "CONSENT_STATUS_DENIED"],
    ]);
  });

  it("reports a shop's inventory level beside the mesh's figure as drift, never as a movement, once the item's SKU is known", async () => {
    const sku = uniqueName("SKU");
    await receive(sku, "DC-1", 7);
    await until(async () => {
      const { availability } = (await get(`/v1/skus/${sku}/availability?channelId=web&locationId=DC-1`)).json;
      expect(availability[0].available).toBe("7");
    });
    const itemId = String(271878346500000000 + Math.floor(Math.random() * 99_999_999));
    const level = (available: number | null, updatedAt: string, location = "24826418") =>
      `{"inventory_item_id": ${itemId}, "location_id": ${location}, "available": ${available}, "updated_at": "${updatedAt}", "admin_graphql_api_id": "gid://shopify/InventoryLevel/${location}?inventory_item_id=${itemId}"}`;
    // The level names an item no notice has linked to a SKU yet: Shopify is told to come again.
    const early = await deliver("inventory_levels/update", level(5, "2026-11-27T10:00:00-05:00"));
    expect([early.status, reasonOf(early.json)]).toEqual([404, "INVENTORY_ITEM_UNKNOWN"]);
    const linked = await deliver(
      "inventory_items/create",
      `{"id": ${itemId}, "sku": "${sku}", "updated_at": "2026-11-27T09:00:00-05:00", "admin_graphql_api_id": "gid://shopify/InventoryItem/${itemId}"}`,
    );
    expect(linked.json.linked).toEqual([{ inventoryItemId: itemId, sku }]);

    const drifted = await deliver("inventory_levels/update", level(5, "2026-11-27T10:00:00-05:00"));
    expect([drifted.status, drifted.json.recorded], JSON.stringify(drifted.json)).toEqual([200, true]);
    expect(drifted.json.view).toMatchObject({
      channelId: "web",
      locationId: "DC-1",
      sku,
      channelAvailable: "5",
      meshAvailable: "7",
      drifted: true,
    });
    // Delivered again: the same report, recorded once.
    expect(
      (await deliver("inventory_levels/update", level(5, "2026-11-27T10:00:00-05:00"))).json.view,
    ).toEqual(drifted.json.view);
    const agreed = await deliver("inventory_levels/update", level(7, "2026-11-27T11:00:00-05:00"));
    expect(agreed.json.view).toMatchObject({ channelAvailable: "7", drifted: false });
    // An older level coming late changes nothing.
    const late = await deliver("inventory_levels/update", level(2, "2026-11-27T10:30:00-05:00"));
    expect([late.json.recorded, late.json.view.channelAvailable]).toEqual([false, "7"]);
    // Stock itself never moved; a level at a Shopify location the shop does not map, or untracked, is left.
    expect((await get(`/v1/locations/DC-1/skus/${sku}/position`)).json.position.onHand).toBe("7");
    expect((await deliver("inventory_levels/update", level(3, "2026-11-27T12:00:00Z", "999"))).status).toBe(
      202,
    );
    expect((await deliver("inventory_levels/update", level(null, "2026-11-27T12:00:00Z"))).status).toBe(202);
  });

  it("answers 404 for an order it does not have yet, and 400 naming the field for a restock it cannot place", async () => {
    const unknown = await deliver("orders/paid", paidNotice("820982911999999999", "1.00"));
    expect([unknown.status, reasonOf(unknown.json)]).toEqual([404, "ORDER_NOT_FOUND"]);
    await receive("IPOD2008PINK", "DC-1", 2);
    const { id } = await newShopifyOrder();
    const nowhere = await deliver(
      "refunds/create",
      refundNotice(
        id,
        "700000000000000003",
        [lineItem("866550311766439020", "return", { location_id: 555 })],
        [],
      ),
    );
    expect(nowhere.status).toBe(400);
    expect(nowhere.json.details?.[0]?.fieldViolations).toEqual([
      {
        field: "refund_line_items[0].location_id",
        description: "names no location of the mesh (555): map it in the shop's locations",
      },
    ]);
  });
});

describe("Stripe webhooks", () => {
  const deliver = (event: unknown, signedAt = Math.floor(Date.now() / 1000), secrets = [stripeSecret]) => {
    const body = Buffer.from(JSON.stringify(event));
    const v1 = secrets.map(
      (secret) => `v1=${createHmac("sha256", secret).update(`${signedAt}.`).update(body).digest("hex")}`,
    );
    return mesh.call("POST", "/webhooks/stripe", {
      rawBody: body.toString("utf8"),
      headers: { "stripe-signature": `t=${signedAt},${v1.join(",")}` },
    });
  };
  const fixture = (name: string) => JSON.parse(readFileSync(new URL(name, stripeFixtures), "utf8"));
  /** An accepted order of one unit, paid through Stripe (payment_intent.succeeded) by a charge of its own. */
  const capturedOrder = async () => {
    const sku = uniqueName("SKU");
    await receive(sku, "DC-1", 2);
    const order = await submitOrder(sku, 1);
    const total = Number(order.grandTotal.minorUnits);
    const chargeId = uniqueName("ch_");
    const succeeded = fixture("event-payment-intent-succeeded.json");
    succeeded.id = uniqueName("evt_");
    Object.assign(succeeded.data.object, {
      metadata: { order_id: order.orderId },
      amount_received: total,
      latest_charge: chargeId,
    });
    expect((await deliver(succeeded)).status).toBe(200);
    return { order, total, chargeId };
  };

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

  it("opens a chargeback for a dispute on the order whose payment is the disputed charge, once, into the ledger", async () => {
    const { order, total, chargeId } = await capturedOrder();
    const dispute = fixture("event-charge-dispute-created.json");
    Object.assign(dispute.data.object, { id: uniqueName("dp"), charge: chargeId, amount: 1_000 });
    for (let i = 0; i < 2; i++) {
      const answer = await deliver(dispute);
      expect(answer.status, JSON.stringify(answer.json)).toBe(200);
      expect(answer.json.recorded).toEqual([dispute.data.object.id]);
    }
    const after = (await get(`/v1/orders/${order.orderId}`)).json.order;
    expect(
      after.paymentEvents.map((e: { type: string; amount: { minorUnits: string } }) => [
        e.type,
        e.amount.minorUnits,
      ]),
    ).toEqual([
      ["PAYMENT_EVENT_TYPE_CAPTURE", String(total)],
      ["PAYMENT_EVENT_TYPE_CHARGEBACK", "1000"],
    ]);
    await until(async () => {
      const entries = (await get(`/v1/journalEntries?orderId=${order.orderId}&pageSize=50`)).json.entries;
      const types = entries.map((e: { source: { eventType: string } }) => e.source.eventType);
      expect(types.filter((t: string) => t === "retail.order.v1.ChargebackOpened")).toHaveLength(1);
    });
    // Won: closed as won and funds reinstated (Stripe sends both) reverse the chargeback once.
    for (const type of [
      "charge.dispute.closed",
      "charge.dispute.funds_reinstated",
      "charge.dispute.closed",
    ]) {
      const won = { ...dispute, id: uniqueName("evt"), type };
      won.data = { object: { ...dispute.data.object, status: "won" } };
      const answer = await deliver(won);
      expect(answer.status, JSON.stringify(answer.json)).toBe(200);
      expect(answer.json.recorded).toEqual([`${dispute.data.object.id}:reversal`]);
    }
    const reversed = (await get(`/v1/orders/${order.orderId}`)).json.order;
    expect([reversed.chargebackTotal.minorUnits, reversed.chargebackReversedTotal.minorUnits]).toEqual([
      "1000",
      "1000",
    ]);
    // Nothing more to reverse: a second dispute's reversal would exceed what is charged back.
    const lost = { ...dispute, id: uniqueName("evt"), type: "charge.dispute.closed" };
    lost.data = { object: { ...dispute.data.object, status: "lost" } };
    expect((await deliver(lost)).json).toMatchObject({ recorded: [] });
    await until(async () => {
      const entries = (await get(`/v1/journalEntries?orderId=${order.orderId}&pageSize=50`)).json.entries;
      const reversal = entries.filter(
        (e: { source: { eventType: string } }) => e.source.eventType === "retail.order.v1.ChargebackReversed",
      );
      expect(reversal).toHaveLength(1);
      expect(
        reversal[0].lines.map((l: { accountCode: string; side: string; amount: { minorUnits: string } }) => [
          l.accountCode,
          l.side,
          l.amount.minorUnits,
        ]),
      ).toEqual([
        ["1200", "ENTRY_SIDE_DEBIT", "1000"],
        ["5300", "ENTRY_SIDE_CREDIT", "1000"],
      ]);
    });
    // A dispute on a charge the mesh does not know: 404, so Stripe sends it again (it may come first).
    const unknown = fixture("event-charge-dispute-created.json");
    Object.assign(unknown.data.object, { id: uniqueName("dp"), charge: uniqueName("ch") });
    const refused = await deliver(unknown);
    expect([refused.status, reasonOf(refused.json)]).toEqual([404, "ORDER_NOT_FOUND"]);
  });

  it("accepts deliveries signed with the old or the new secret while the endpoint's secret is rolled", async () => {
    const event = { id: "evt_roll", type: "customer.created", data: { object: {} } };
    const now = Math.floor(Date.now() / 1000);
    // During a roll Stripe signs with both secrets (two v1 values); either listed secret verifies.
    for (const secrets of [[stripeSecret], [stripeRolledSecret], [stripeSecret, stripeRolledSecret]]) {
      const answer = await deliver(event, now, secrets);
      expect(answer.status, secrets.join(" and ")).toBe(202);
    }
    const retired = await deliver(event, now, ["whsec_retired_secret_no_longer_listed"]);
    expect([retired.status, retired.json.details?.[0]?.reason]).toEqual([401, "WEBHOOK_SIGNATURE_INVALID"]);
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

  it("posts a paid payout once, and its itemised reconciliation report matches every line and the payout", async () => {
    const { order, total, chargeId } = await capturedOrder();
    // The capture reaches the ledger through the bus; the report is reconciled against it.
    await until(async () => {
      const entries = (await get(`/v1/journalEntries?orderId=${order.orderId}&pageSize=50`)).json.entries;
      expect(entries.map((e: { description: string }) => e.description).join()).toMatch(/capture/);
    });

    // Stripe's own payout object, paid: what reached the bank is the charge less Stripe's 146.
    const payoutId = uniqueName("po_");
    const official = fixture("official-openapi-fixtures-subset.json");
    const paid = {
      ...official.event,
      id: uniqueName("evt_"),
      type: "payout.paid",
      data: {
        object: {
          ...official.payout,
          id: payoutId,
          amount: total - 146,
          arrival_date: 1_795_000_000,
          status: "paid",
        },
      },
    };
    const first = await deliver(paid);
    expect([first.status, first.json.posted], JSON.stringify(first.json)).toEqual([200, true]);
    const again = await deliver(paid);
    expect([again.json.posted, again.json.journalEntryId]).toEqual([false, first.json.journalEntryId]);

    const decimal = (minor: number) => `${Math.trunc(minor / 100)}.${String(minor % 100).padStart(2, "0")}`;
    const header = readFileSync(
      new URL("payout-reconciliation.itemized.constructed.csv", stripeFixtures),
      "utf8",
    ).split("\n")[0];
    const report = `${header}\n${payoutId},2026-11-18 00:00:00,${uniqueName("txn_")},,,usd,${decimal(total)},1.46,${decimal(total - 146)},charge,${chargeId},${chargeId},"Order ${order.orderId}"\n`;
    const upload = (idempotencyKey: string) =>
      mesh.call("POST", "/imports/stripe/payout-reconciliation", {
        key,
        rawBody: report,
        headers: { "content-type": "text/csv", "idempotency-key": idempotencyKey },
      });
    const idempotencyKey = uniqueName("po-report");
    const imported = await upload(idempotencyKey);
    expect(imported.status, JSON.stringify(imported.json)).toBe(200);
    expect(imported.json.rejectedRows).toEqual([]);
    const [settlement] = imported.json.settlements;
    expect(settlement.settlementId).toBe(payoutId);
    expect(settlement.items.map((i: { status: string }) => i.status)).toEqual([
      "RECONCILIATION_STATUS_MATCHED",
      "RECONCILIATION_STATUS_MATCHED",
    ]);
    // The payout line is the payout payout.paid posted, not a second posting.
    expect(settlement.items[1].journalEntryId).toBe(first.json.journalEntryId);
    const replay = await upload(idempotencyKey);
    expect([replay.headers.get("idempotent-replayed"), replay.json]).toEqual(["true", imported.json]);
    const recon = await get(`/v1/settlements/${payoutId}/reconciliation`);
    expect(recon.json.reconciliationRateBps).toBe(10_000);
  });
});

describe("Amazon settlement reports", () => {
  const [columns, row] = [settlementColumns, settlementRow];

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
    // The same settlement as a flat file V2 is the same settlement: imported once, the same answer.
    const v2 = await mesh.call("POST", "/imports/amazon/settlement-report", {
      key,
      rawBody: readFileSync(
        new URL("./fixtures/amazon/settlement-flatfile-v2.constructed.tsv", import.meta.url),
        "utf8",
      ),
      headers: { "content-type": "text/tab-separated-values", "idempotency-key": uniqueName("amz") },
    });
    expect([v2.status, v2.json.items]).toEqual([200, first.json.items]);
    expect((await upload(undefined)).json.details[0].fieldViolations[0].field).toBe("Idempotency-Key");
    expect((await upload(uniqueName("amz"), "application/json")).status).toBe(415);
  });

  it("streams a settlement file larger than any REST body, keeping the rows it can read and naming the others", async () => {
    const settlementId = String(Date.now());
    // 40,000 storage-fee rows of one adjustment (summed into one line), an order, and a row it cannot read.
    const fee = row({
      "transaction-type": "Storage Fee",
      "adjustment-id": "storage-1",
      "other-amount": "-0.01",
    });
    const text = [
      columns.join("\t"),
      row({
        "settlement-id": settlementId,
        "total-amount": "0.00",
        currency: "USD",
        "deposit-date": "2026-11-20",
      }),
      ...Array.from({ length: 40_000 }, () => fee),
      row({ "transaction-type": "Order", "order-id": "111-1", "price-amount": "12.50" }),
      row({ "transaction-type": "Order", "order-id": "111-2", "price-amount": "twelve" }),
    ].join("\n");
    expect(Buffer.byteLength(text)).toBeGreaterThan(1_048_576);
    const answer = await mesh.call("POST", "/imports/amazon/settlement-report", {
      key,
      rawBody: text,
      headers: { "content-type": "text/tab-separated-values", "idempotency-key": uniqueName("big") },
    });
    expect(answer.status, JSON.stringify(answer.json).slice(0, 500)).toBe(200);
    expect(answer.json.rejectedRows).toEqual([
      { field: "row 40004: price-amount", description: expect.stringMatching(/amount/) },
    ]);
    const recon = (await get(`/v1/settlements/amazon-${settlementId}/reconciliation`)).json.items;
    expect(recon.map((i: { actual: { minorUnits: string } }) => i.actual.minorUnits)).toEqual(
      expect.arrayContaining(["40000", "1250"]),
    );
    // The journal keeps its first 64 KiB and its size; it cannot be replayed (send the file again).
    const [journaled] = (await get("/v1/inboundMessages?channel=amazon-settlement&pageSize=1")).json.messages;
    expect([journaled.bodySize, journaled.bodyTruncated, journaled.statusCode]).toEqual([
      String(Buffer.byteLength(text)),
      true,
      200,
    ]);
    const full = (await get(`/v1/inboundMessages/${journaled.messageId}`)).json.message;
    expect(Buffer.from(full.body, "base64").length).toBe(65_536);
    const replay = await post(`/v1/inboundMessages/${journaled.messageId}:replay`, {});
    expect(replay.json.details?.[0]?.reason).toBe("REPLAY_REFUSED");
  });

  it("sends a settlement larger than one call to finance in parts, and journals the file's progress while it comes", async () => {
    // A replica importing 2 lines per call, so a few transactions make parts.
    const replica = await mesh.startReplica({ IMPORT_PART_LINES: "2" });
    const settlementId = String(Date.now());
    const fee = `${row({ "transaction-type": "Storage Fee", "adjustment-id": "storage-1", "other-amount": "-0.01" })}\n`;
    const idempotencyKey = uniqueName("parts");
    // Sent slowly: the header and summary, then 10,000 fee rows (one transaction) a second three times,
    // then four transactions more: five lines and the deposit's, three parts.
    const request = httpRequest(`${replica.url}/imports/amazon/settlement-report`, {
      method: "POST",
      headers: {
        "x-api-key": key,
        "content-type": "text/tab-separated-values",
        "idempotency-key": idempotencyKey,
      },
    });
    const answered = new Promise<{ status: number; json: Record<string, unknown> }>((resolve, reject) => {
      request.on("response", (response) => {
        let body = "";
        response.on("data", (chunk: Buffer) => {
          body += chunk.toString("utf8");
        });
        response.on("end", () => resolve({ status: response.statusCode ?? 0, json: JSON.parse(body) }));
      });
      request.on("error", reject);
    });
    request.write(`${columns.join("\t")}\n`);
    request.write(
      `${row({ "settlement-id": settlementId, "total-amount": "-300.04", currency: "USD", "deposit-date": "2026-11-20" })}\n`,
    );
    const listed = async () =>
      (await get(`/v1/inboundMessages?channelMessageId=${encodeURIComponent(idempotencyKey)}`)).json
        .messages as Array<{ statusCode: number; progress?: Record<string, string | number> }>;
    for (let burst = 0; burst < 3; burst++) {
      request.write(fee.repeat(10_000));
      await new Promise((resolve) => setTimeout(resolve, 1_100));
    }
    // While the file still comes, the journal says how far it has got.
    const midway = await until(async () => {
      const [message] = await listed();
      expect(message?.statusCode).toBe(0);
      expect(Number(message?.progress?.rowsRead)).toBeGreaterThanOrEqual(10_000);
      return message;
    });
    expect(Number(midway?.progress?.bytesRead)).toBeGreaterThan(0);
    for (const n of [1, 2, 3, 4])
      request.write(
        `${row({ "transaction-type": "Subscription Fee", "adjustment-id": `sub-${n}`, "other-amount": "-0.01" })}\n`,
      );
    request.end();
    const answer = await answered;
    expect(answer.status, JSON.stringify(answer.json).slice(0, 400)).toBe(200);
    expect(answer.json.complete).toBe(true);
    const items = answer.json.items as Array<{ settlementLineId: string }>;
    expect(items.map((i) => i.settlementLineId)).toEqual(["1", "2", "3", "4", "5", "6"]);
    const [done] = await listed();
    expect(done?.progress).toMatchObject({
      rowsRead: "30006",
      rowsRejected: "0",
      partsSent: 3,
      partsTotal: 3,
    });
    // Read back whole from finance: every part's lines, in order.
    const recon = (await get(`/v1/settlements/amazon-${settlementId}/reconciliation`)).json.items;
    expect(recon.slice(0, 6).map((i: { settlementLineId: string }) => i.settlementLineId)).toEqual([
      "1",
      "2",
      "3",
      "4",
      "5",
      "6",
    ]);
  });
});

describe("Amazon orders pulled from the Selling Partner API", () => {
  it("submits a pulled order once on the marketplace's channel, and refuses another marketplace or an FBA order", async () => {
    const amazonFixtures = new URL("./fixtures/amazon/", import.meta.url);
    const pulled = (name: string) => JSON.parse(readFileSync(new URL(name, amazonFixtures), "utf8"));
    const rule = {
      channel: "CHANNEL_MARKETPLACE",
      locationIds: ["DC-1"],
      promises: ["FULFILLMENT_PROMISE_SHIP_FROM_DC"],
    };
    expect((await put("/v1/channelRules/amazon-us", rule)).status).toBe(200);
    await receive("NABetaASINB00551Q3CS", "DC-1", 5);
    const order = pulled("sp-api-getOrder.sandbox-response.json");
    const amazonOrderId = `902-${String(Date.now()).slice(-7)}-5435065`;
    order.payload.AmazonOrderId = amazonOrderId;
    order.payload.ShippingAddress = {
      Name: "Jane Buyer",
      AddressLine1: "410 Terry Ave N",
      City: "SEATTLE",
      StateOrRegion: "WA",
      PostalCode: "98109",
      CountryCode: "US",
    };
    const orderItems = pulled("sp-api-getOrderItems.sandbox-response.json");
    orderItems.payload.AmazonOrderId = amazonOrderId;
    const submit = (body: unknown, apiKey = "amazon-key") =>
      mesh.call("POST", "/imports/amazon/orders", { key: apiKey, body });
    const first = await submit({ order, orderItems });
    expect(first.status, JSON.stringify(first.json)).toBe(200);
    expect(first.json.order, JSON.stringify(first.json.order.rejectionReasons)).toMatchObject({
      status: "ORDER_STATUS_ACCEPTED",
      channel: "CHANNEL_MARKETPLACE",
      channelId: "amazon-us",
      channelOrderId: amazonOrderId,
      taxTotal: { minorUnits: "101" },
      grandTotal: { minorUnits: "1101" },
    });
    expect((await submit({ order, orderItems })).json.order.orderId).toBe(first.json.order.orderId);
    expect((await get("/v1/locations/DC-1/skus/NABetaASINB00551Q3CS/position")).json.position.reserved).toBe(
      "1",
    );
    const elsewhere = structuredClone(order);
    elsewhere.payload.MarketplaceId = "A1F83G8C2ARO7P";
    const foreign = await submit({ order: elsewhere, orderItems });
    expect([foreign.status, reasonOf(foreign.json)]).toEqual([403, "MARKETPLACE_NOT_ALLOWED"]);
    const fba = structuredClone(order);
    fba.payload.FulfillmentChannel = "AFN";
    const refused = await submit({ order: fba, orderItems });
    expect([refused.status, refused.json.details[0].fieldViolations[0].field]).toEqual([
      400,
      "order.payload.FulfillmentChannel",
    ]);
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
    // Each file is answered with its 997: accepted, or the set in error rejected (nothing applied).
    const setsOf = (ack: string) => ack.split("~").filter((seg) => /^AK[259]/.test(seg));
    expect(first.json.acknowledgment).toMatch(
      /^ISA\*00\*.{10}\*00\*.{10}\*01\*999999999 {6}\*12\*4405197800 {5}\*/,
    );
    expect(setsOf(first.json.acknowledgment)).toEqual(["AK2*850*000000010", "AK5*A", "AK9*A*1*1*1"]);
    expect(setsOf(altered.json.acknowledgment)).toEqual(["AK2*850*000000010", "AK5*R*5", "AK9*R*1*1*0"]);
    expect(foreign.json.acknowledgment).toBeUndefined();
    const asEdi = await fetch(`${mesh.url}/imports/x12`, {
      method: "POST",
      headers: {
        "x-api-key": "xyz-key",
        "content-type": "application/edi-x12",
        accept: "application/edi-x12",
      },
      body: edi,
    });
    expect([asEdi.status, asEdi.headers.get("content-type")]).toEqual([200, "application/edi-x12"]);
    expect(setsOf(await asEdi.text())).toEqual(["AK2*850*000000010", "AK5*A", "AK9*A*1*1*1"]);
    const listed = await mesh.call("GET", "/v1/orders?pageSize=50", { key: "xyz-key" });
    expect(listed.json.orders.map((o: { channelOrderId: string }) => o.channelOrderId)).toEqual([
      "08292233294",
    ]);
  });

  it("journals a file with its Idempotency-Key as the channel's id and without the caller's credentials", async () => {
    const since = new Date().toISOString();
    const edi = readFileSync(new URL("./fixtures/x12/850.node-x12.edi", import.meta.url), "utf8");
    const key = uniqueName("file");
    const answer = await mesh.call("POST", "/imports/x12", {
      key: "xyz-key",
      rawBody: edi,
      idempotencyKey: key,
      headers: { "content-type": "application/edi-x12" },
    });
    expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    const listed = await get(`/v1/inboundMessages?channel=x12&since=${since}`);
    expect(listed.json.messages).toEqual([
      expect.objectContaining({
        endpoint: "/imports/x12",
        channelMessageId: key,
        clientId: "xyz-retail",
        verification: "VERIFICATION_API_KEY",
        statusCode: 200,
        contentType: "application/edi-x12",
      }),
    ]);
    const headers = listed.json.messages[0].headers as Record<string, string>;
    expect(headers["idempotency-key"]).toBe(key);
    expect(Object.keys(headers)).not.toContain("x-api-key");
    expect(JSON.stringify(listed.json)).not.toContain("xyz-key");
  });

  /** Posts an X12 interchange with a client's API key. */
  const postX12 = (body: string, apiKey: string) =>
    mesh.call("POST", "/imports/x12", {
      key: apiKey,
      rawBody: body,
      headers: { "content-type": "application/edi-x12" },
    });
  /** The sample 850 under a PO number of its own, from the partner, with its six SKUs in stock at DC-1. */
  const placedPurchaseOrder = async () => {
    const poNumber = String(Date.now()).slice(-9);
    for (const sku of ["AB3542", "RD5322", "XY5266", "VX2332", "RV0524", "DX1875"])
      await receive(sku, "DC-1", 1_000);
    const purchase = readFileSync(new URL("./fixtures/x12/850.node-x12.edi", import.meta.url), "utf8");
    const placed = await postX12(
      purchase.replace("BEG*00*SA*08292233294", `BEG*00*SA*${poNumber}`),
      "xyz-key",
    );
    return { poNumber, placed };
  };

  it("records a warehouse's 856 ship notices as shipments of the orders they name, committing stock, once", async () => {
    const { poNumber, placed } = await placedPurchaseOrder();
    expect(placed.json.orders[0].status, JSON.stringify(placed.json)).toBe("ORDER_STATUS_ACCEPTED");
    const orderId: string = placed.json.orders[0].orderId;
    const before = (await get("/v1/locations/DC-1/skus/AB3542/position")).json.position;

    // The sample notice, sent by the warehouse, for this PO: two items each, in two notices.
    const template = readFileSync(new URL("./fixtures/x12/856.node-x12.edi", import.meta.url), "utf8")
      .replaceAll("4405197800     ", "WMS0000001     ")
      .replace("GS*SH*4405197800", "GS*SH*WMS0000001")
      .replace("PRF*99999817", `PRF*${poNumber}`);
    const notice = (id: string, first: [string, number], second: [string, number]) =>
      template
        .replace("BSN*14*829716", `BSN*14*${id}`)
        .replace("LIN*1*VP*87787D", `LIN*1*VP*${first[0]}`)
        .replace("SN1*1*24*EA", `SN1*1*${first[1]}*EA`)
        .replace("LIN*2*VP*99887D", `LIN*2*VP*${second[0]}`)
        .replace("SN1*2*6*EA", `SN1*2*${second[1]}*EA`);
    const first = notice(`${poNumber}A`, ["AB3542", 120], ["RD5322", 100]);
    const second = notice(`${poNumber}B`, ["RD5322", 120], ["XY5266", 126]);
    // The partner that ordered cannot send the warehouse's notices.
    expect((await postX12(first, "xyz-key")).status).toBe(403);
    const shipped = await postX12(first, "wms-key");
    expect(shipped.status, JSON.stringify(shipped.json)).toBe(200);
    expect(shipped.json.shipments).toEqual([
      { poNumber, orderId, shipmentId: `${poNumber}A`, outcome: "recorded" },
    ]);
    expect(shipped.json.acknowledgment).toMatch(/~AK1\*SH\*\d+~AK2\*856\*\d+~AK5\*A~AK9\*A\*1\*1\*1~/);
    expect((await postX12(second, "wms-key")).json.shipments[0].outcome).toBe("recorded");
    expect((await postX12(first, "wms-key")).json.shipments[0].outcome).toBe("already recorded");
    const order = (await get(`/v1/orders/${orderId}`)).json.order;
    expect(
      order.shipments.map((s: { shipmentId: string; carrier: string; trackingNumber: string }) => [
        s.shipmentId,
        s.carrier,
        s.trackingNumber,
      ]),
    ).toEqual([
      [`${poNumber}A`, "XXXX", "5787970539"],
      [`${poNumber}B`, "XXXX", "5787970539"],
    ]);
    const shippedOf = (lineId: string) =>
      order.lines.find((l: { lineId: string }) => l.lineId === lineId)?.shippedQuantity;
    expect([shippedOf("1"), shippedOf("2"), shippedOf("3"), shippedOf("4")]).toEqual([
      "120",
      "220",
      "126",
      "0",
    ]);
    // The units left the DC: on hand and reserved both down by what shipped.
    await until(async () => {
      const after = (await get("/v1/locations/DC-1/skus/AB3542/position")).json.position;
      expect(BigInt(after.onHand)).toBe(BigInt(before.onHand) - 120n);
      expect(BigInt(after.reserved)).toBe(BigInt(before.reserved) - 120n);
    });
    // More than the order has open is refused whole, naming the PO.
    const over = await postX12(notice(`${poNumber}C`, ["VX2332", 77], ["RV0524", 1]), "wms-key");
    expect([over.status, over.json.details[0].fieldViolations[0]]).toEqual([
      400,
      { field: `ST 0008 PO ${poNumber}`, description: "ships 77 of VX2332, 1 more than the order has open" },
    ]);
    expect((await get(`/v1/orders/${orderId}`)).json.order.shipments).toHaveLength(2);
  });

  it("records a 945 as the shipment of the order our 940 named and an 846 as cycle counts, once each", async () => {
    const { poNumber, placed } = await placedPurchaseOrder();
    const orderId: string = placed.json.orders[0].orderId;

    // The warehouse's answer to the 940: all 120 of line 1 shipped, line 2 short-shipped (nothing).
    const advice = readFileSync(new URL("./fixtures/x12/945.constructed.edi", import.meta.url), "utf8")
      .replace("ORD-EXAMPLE", orderId)
      .replace("SHP-20261127-01", `SHP-${poNumber}`)
      .replace("PO-EXAMPLE", poNumber);
    const shipped = await postX12(advice, "wms-key");
    expect([shipped.status, shipped.json.shipments], JSON.stringify(shipped.json)).toEqual([
      200,
      [{ poNumber, orderId, shipmentId: `SHP-${poNumber}`, outcome: "recorded" }],
    ]);
    expect(shipped.json.acknowledgment).toMatch(/~AK1\*SW\*102~AK2\*945\*0001~AK5\*A~AK9\*A\*1\*1\*1~/);
    expect((await postX12(advice, "wms-key")).json.shipments[0].outcome).toBe("already recorded");
    const order = (await get(`/v1/orders/${orderId}`)).json.order;
    expect(
      order.shipments.map((s: { carrier: string; trackingNumber: string }) => [s.carrier, s.trackingNumber]),
    ).toEqual([["UPSN", "1Z999AA10123456784"]]);
    expect(order.lines.slice(0, 2).map((l: { shippedQuantity: string }) => l.shippedQuantity)).toEqual([
      "120",
      "0",
    ]);
    // A 945 whose PO is not the order's is refused whole, naming the element.
    const foreign = await postX12(
      advice.replace(`SHP-${poNumber}`, `SHP-${poNumber}-2`).replace(`**${poNumber}~`, "**OTHER~"),
      "wms-key",
    );
    expect([foreign.status, foreign.json.details[0].fieldViolations[0].field]).toEqual([
      400,
      "ST 0001 W0606",
    ]);

    // The nightly advice: AB3542 counted at 940 on hand, RD5322 at none; sent twice, counted once.
    const count = readFileSync(
      new URL("./fixtures/x12/846.constructed.edi", import.meta.url),
      "utf8",
    ).replace("INV20261127", `INV${poNumber}`);
    const counted = await postX12(count, "wms-key");
    expect([counted.status, counted.json.counts], JSON.stringify(counted.json)).toEqual([
      200,
      [
        { reference: `INV${poNumber}`, sku: "AB3542", outcome: "counted" },
        { reference: `INV${poNumber}`, sku: "RD5322", outcome: "counted" },
      ],
    ]);
    expect(counted.json.acknowledgment).toMatch(/~AK2\*846\*0001~AK5\*A~/);
    const onHand = async (sku: string) =>
      (await get(`/v1/locations/DC-1/skus/${sku}/position`)).json.position.onHand;
    expect([await onHand("AB3542"), await onHand("RD5322")]).toEqual(["940", "0"]);
    await receive("RD5322", "DC-1", 5);
    const again = await postX12(count, "wms-key");
    expect(again.json.counts.map((c: { outcome: string }) => c.outcome)).toEqual([
      "already counted",
      "already counted",
    ]);
    expect(await onHand("RD5322")).toBe("5");
    // A warehouse client without inventory:write may ship but not count.
    const unscoped = await postX12(
      count.replaceAll("WMS0000001     ", "WMS0000002     ").replace("GS*IB*WMS0000001", "GS*IB*WMS0000002"),
      "wms2-key",
    );
    expect([unscoped.status, reasonOf(unscoped.json)]).toEqual([403, "SCOPE_MISSING"]);
  });
});

describe("store till batches", () => {
  it("records each sale handed over at the till with its tenders and each return with its refund, keeps the good ones, and changes nothing when sent again", async () => {
    const sku = uniqueName("SKU");
    await receive(sku, "ST-1", 5);
    const t = uniqueName("T");
    const batch = {
      storeId: "ST-1",
      currency: "USD",
      transactions: [
        {
          transactionId: `${t}-1`,
          type: "sale",
          occurredAt: new Date().toISOString(),
          lines: [{ lineId: "1", sku, quantity: 2, unitPrice: "10.00", tax: "1.78" }],
          tenders: [
            { type: "cash", amount: "10.00" },
            { type: "card", amount: "11.78", reference: "auth-1" },
          ],
        },
        {
          transactionId: `${t}-2`,
          type: "sale",
          lines: [{ lineId: "1", sku, quantity: 1, unitPrice: "10.00", tax: "0.89" }],
          tenders: [{ type: "gift_card", amount: "99.00" }],
        },
        {
          transactionId: `${t}-3`,
          type: "return",
          originalTransactionId: `${t}-1`,
          lines: [{ lineId: "1", quantity: 1, restock: true }],
          tenders: [{ type: "cash", amount: "10.89" }],
        },
      ],
    };
    const send = () =>
      mesh.call("POST", "/imports/pos/transactions", {
        key: "till-key",
        body: batch,
        idempotencyKey: uniqueName("k"),
      });
    for (let i = 0; i < 2; i++) {
      const answer = await send();
      expect(answer.status, JSON.stringify(answer.json)).toBe(200);
      expect(answer.json).toMatchObject({ storeId: "ST-1", recorded: 2, refused: 1 });
      expect(
        answer.json.transactions.map((o: { transactionId: string; outcome: string }) => [
          o.transactionId,
          o.outcome,
        ]),
      ).toEqual([
        [`${t}-1`, "recorded"],
        [`${t}-2`, "refused"],
        [`${t}-3`, "recorded"],
      ]);
      expect(answer.json.transactions[1].violations[0].field).toBe("transactions[1].tenders");
    }
    const orderId = (await send()).json.transactions[0].orderId;
    const order = (await get(`/v1/orders/${orderId}`)).json.order;
    expect(order).toMatchObject({
      channel: "CHANNEL_POS",
      capturedTotal: { minorUnits: "2178" },
      refundedTotal: { minorUnits: "1089" },
      returns: [expect.objectContaining({ returnId: `pos:ST-1:${t}-3`, locationId: "ST-1" })],
    });
    expect(
      order.paymentEvents.map((e: { type: string; paymentMethod: string }) => [e.type, e.paymentMethod]),
    ).toEqual([
      ["PAYMENT_EVENT_TYPE_CAPTURE", "cash"],
      ["PAYMENT_EVENT_TYPE_CAPTURE", "card"],
      ["PAYMENT_EVENT_TYPE_REFUND", "cash"],
    ]);
    // Finance keeps the store's day in its subledger (posted as one summary per store and day).
    await until(async () => {
      const { postings } = (await get(`/v1/subledgerLines?orderId=${orderId}`)).json;
      expect(postings.every((p: { storeId: string }) => p.storeId === "ST-1")).toBe(true);
      expect(postings.map((p: { postingKey: string }) => p.postingKey.split(":").at(-1)).sort()).toEqual([
        "capture",
        "capture",
        "delivery",
        "refund",
      ]);
    });
    // Two units left the store at the till and one came back to the shelf: once, for all three sends.
    await until(async () => {
      const position = (await get(`/v1/locations/ST-1/skus/${sku}/position`)).json.position;
      expect(position.onHand).toBe("4");
    });
  });
});

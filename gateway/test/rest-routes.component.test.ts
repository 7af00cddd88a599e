// Every route family over HTTP through the real gateway to the real services: inventory set-up and
// stock, customers from source to erasure, an order's life, and the finance it posts; and the OpenAPI
// document the routes come with. JSON follows protobuf's mapping: lowerCamelCase, enums by name, int64
// as decimal text.
import {
  AggregateRepublishedSchema,
  ParkedMessagesReplayedSchema,
} from "@retail/contracts/retail/admin/v1/admin_pb";
import { testAmqpUrl, uniqueName, until } from "@retail/platform/testing";
import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020 } from "ajv/dist/2020.js";
import formats from "ajv-formats";
import amqplib from "amqplib";
import { OpenAPIClientAxios } from "openapi-client-axios";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startReceiver } from "../../services/delivery/test/harness.js";
import { gatewayServices } from "../src/compose.js";
import { channelEndpoints } from "../src/http/channel-endpoints.js";
import { createRouteTable } from "../src/transcoding/route-table.js";
import { type GatewayMesh, startGatewayMesh } from "./harness.js";
import { operatorClient, restClient } from "./rest-client.js";

const key = "admin-test-key";
let mesh: GatewayMesh;
const { get, post, receive, submitOrder, setUpLocations } = restClient(() => mesh, key);

beforeAll(async () => {
  mesh = await startGatewayMesh("routes", { clients: [operatorClient(key)] });
  await setUpLocations();
}, 120_000);
afterAll(async () => mesh?.stopAll(), 60_000);

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
    // Per location, and the channel's total over the locations that feed it in a field of its own.
    expect(
      forChannel.json.availability.map((a: { locationId: string; available: string }) => [
        a.locationId,
        a.available,
      ]),
    ).toEqual([
      ["DC-1", "7"],
      ["ST-1", "3"],
    ]);
    expect(forChannel.json.channelTotal).toMatchObject({ locationId: "", channelId: "web", available: "10" });
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
    // The ledger names the channel client that recorded each entry.
    const ledger = await get(`/v1/locations/DC-1/skus/${sku}/movements`);
    expect(ledger.json.movements).toEqual([
      expect.objectContaining({
        type: "MOVEMENT_TYPE_GOODS_RECEIPT",
        quantity: "7",
        recordedBy: "gateway:ops",
      }),
    ]);
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

describe("outbound subscriptions over REST", () => {
  it("subscribes an endpoint to a channel's order events and delivers a real order's events to it, signed", async () => {
    const receiver = await startReceiver();
    try {
      const endpoint = receiver.endpoint("erp");
      const created = await post("/v1/subscriptions", {
        subscriptionId: "erp-web-orders",
        url: endpoint.url,
        description: "web orders to the ERP",
        filter: { eventTypes: ["order.order_accepted", "order.payment_captured"], channels: ["CHANNEL_WEB"] },
      });
      expect(created.status, JSON.stringify(created.json)).toBe(200);
      expect(created.json.subscription).toMatchObject({
        subscriptionId: "erp-web-orders",
        state: "SUBSCRIPTION_STATE_ACTIVE",
        maxPerSecond: 10,
        version: "1",
      });
      await endpoint.control({ mode: "ok", secrets: [created.json.signingSecret] });
      const sku = uniqueName("SKU");
      await receive(sku, "DC-1", 5);
      const order = await submitOrder(sku, 1);
      const got = await until(async () => {
        // The subject is the aggregate's stream, as the event's ce-subject says.
        const list = (await endpoint.received()).filter((r) => r.subject === `order:${order.orderId}`);
        expect(list.map((r) => [r.type, r.verified])).toEqual([["retail.order.v1.OrderAccepted", true]]);
        return list;
      });
      expect(got[0]?.body.data).toMatchObject({ order: { orderId: order.orderId, channel: "CHANNEL_WEB" } });
      // Marked delivered once the endpoint's answer is back (just after the receiver recorded it).
      await until(async () => {
        const listed = await get(
          "/v1/subscriptions/erp-web-orders/deliveries?state=DELIVERY_STATE_DELIVERED",
        );
        expect(listed.json.deliveries.map((d: { eventType: string }) => d.eventType)).toContain(
          "retail.order.v1.OrderAccepted",
        );
      });
      const missing = await get("/v1/subscriptions/nobody");
      expect(missing.status).toBe(404);
    } finally {
      await receiver.stop();
    }
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
    const served = [
      ...createRouteTable(gatewayServices).routes.map(
        (r) => `${r.binding.verb} ${r.binding.template.source}`,
      ),
      // The channels' webhooks and file imports, documented beside the transcoded routes.
      ...[...channelEndpoints.keys()].map((path) => `POST ${path}`),
    ];
    expect(documented.sort()).toEqual(served.sort());
    // Each channel endpoint names how it is authenticated and what it takes.
    const shopify = doc.paths["/webhooks/shopify"]?.post as { parameters: Array<{ name: string }> };
    expect(shopify.parameters.map((p) => p.name)).toContain("X-Shopify-Hmac-Sha256");
    const settlement = doc.paths["/imports/amazon/settlement-report"]?.post as {
      requestBody: { content: Record<string, unknown> };
      parameters: Array<{ name: string; required: boolean }>;
    };
    expect(Object.keys(settlement.requestBody.content)).toContain("text/tab-separated-values");
    expect(settlement.parameters).toContainEqual(
      expect.objectContaining({ name: "Idempotency-Key", required: true }),
    );
    // The Idempotency-Key rules where a client reads them.
    const info = (doc as unknown as { info: { description: string } }).info.description;
    for (const rule of [
      "IDEMPOTENCY_KEY_IN_FLIGHT",
      "IDEMPOTENCY_KEY_REUSED",
      "Idempotent-Replayed",
      "Retention",
      "per client",
    ])
      expect(info).toContain(rule);
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

describe("operations over REST", () => {
  it("answers the mesh's status: every service with its queues and outbox, and the exception counts", async () => {
    const answer = await get("/v1/status");
    expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    const services = answer.json.services as Array<{
      service: string;
      error: string;
      status: { queues: Array<{ queue: string; consumers: number }> };
    }>;
    expect(services.map((s) => [s.service, s.error]).sort()).toEqual(
      ["customer-identity", "delivery", "finance-posting", "inventory", "operations", "order"].map((s) => [
        s,
        "",
      ]),
    );
    const finance = services.find((s) => s.service === "finance-posting");
    expect(finance?.status.queues.length).toBeGreaterThan(0);
    for (const queue of finance?.status.queues ?? []) expect(queue.consumers).toBeGreaterThanOrEqual(1);
    expect(answer.json.exceptions.map((e: { kind: string }) => e.kind)).toContain(
      "EXCEPTION_KIND_NOT_IN_LEDGER",
    );
  });

  it("lists a capture while finance is stopped, by age, and clears it once finance is back and posts it", async () => {
    const sku = uniqueName("SKU");
    await receive(sku, "DC-1", 5);
    const order = await submitOrder(sku, 1);
    await mesh.stopService("finance-posting");
    try {
      await captureInFull(order);
      const listed = (olderThan: string) =>
        get(
          `/v1/operationalExceptions?kind=EXCEPTION_KIND_NOT_IN_LEDGER&olderThan=${olderThan}&pageSize=200`,
        ).then((a) => a.json.exceptions.filter((e: { orderId: string }) => e.orderId === order.orderId));
      await until(async () => expect(await listed("0s")).toHaveLength(1));
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      // "Which captures have not reached the ledger within a second": this one, still.
      expect(await listed("1s")).toEqual([
        expect.objectContaining({ subject: order.orderId, sourceSystem: "stripe" }),
      ]);
      expect(await listed("3600s")).toEqual([]);
    } finally {
      await mesh.startService("finance-posting");
    }
    // Finance takes what waited in its queue, posts it, and the item ends.
    await until(() => resolvedNotInLedger(order.orderId), { timeout: 30_000 });
  });

  it("traces a real order across the services, and lists its capture resolved once finance posted it", async () => {
    const sku = uniqueName("SKU");
    await receive(sku, "DC-1", 5);
    const order = await submitOrder(sku, 1);
    await captureInFull(order);
    // The order's events from order, inventory and finance, in the order they happened.
    const trace = await until(async () => {
      const { events } = (await get(`/v1/traces?orderId=${order.orderId}`)).json;
      const keys = events.map((e: { routingKey: string }) => e.routingKey);
      expect(keys).toEqual(
        expect.arrayContaining([
          "order.order_received",
          "order.order_accepted",
          "order.payment_captured",
          "finance.journal_entry_posted",
        ]),
      );
      return events as Array<{ routingKey: string; source: string; occurTime: string }>;
    });
    expect(new Set(trace.map((e) => e.source))).toEqual(new Set(["order", "inventory", "finance-posting"]));
    expect(trace.map((e) => e.occurTime)).toEqual([...trace.map((e) => e.occurTime)].sort());
    // The capture was listed until finance's posting (of that very event) came: resolved now.
    const item = await until(() => resolvedNotInLedger(order.orderId));
    expect(item.reason).toMatch(/^capture cap_\S+ of \d+ USD minor units not posted by finance$/);
    const refused = await get("/v1/traces");
    expect([refused.status, refused.json.details[0].fieldViolations[0].field]).toEqual([
      400,
      "correlationId",
    ]);
  });
});

describe("parked messages over REST", () => {
  it("lists a message finance parked and replays it through finance's admin RPC, audited with the operator", async () => {
    const audits = await mesh.capture(["admin.parked_messages_replayed"]);
    // A payment event whose body is not one: finance's consumer parks it at once.
    const eventId = uniqueName("poison");
    const connection = await amqplib.connect(testAmqpUrl());
    const channel = await connection.createConfirmChannel();
    channel.publish(mesh.exchange, "order.payment_captured", Buffer.from([0xff, 0xfe, 0xfd]), {
      headers: {
        "ce-id": eventId,
        "ce-type": "retail.order.v1.PaymentCaptured",
        "ce-source": "test",
        "ce-subject": `order:${eventId}`,
        "ce-time": new Date().toISOString(),
      },
    });
    await channel.waitForConfirms();
    await connection.close();
    const parked = await until(async () => {
      const answer = await get("/v1/parkedMessages?service=finance-posting");
      expect(answer.status, JSON.stringify(answer.json)).toBe(200);
      const ours = answer.json.messages.filter(
        (m: { message: { eventId: string } }) => m.message.eventId === eventId,
      );
      expect(ours).toHaveLength(1);
      return { item: ours[0], services: answer.json.services };
    });
    expect(parked.item).toMatchObject({
      service: "finance-posting",
      message: { type: "retail.order.v1.PaymentCaptured", attempts: 1, subject: `order:${eventId}` },
    });
    expect(parked.item.message.failureReason).toMatch(/not a valid message/);
    const queue: string = parked.item.message.queue;
    expect(parked.services).toEqual([expect.objectContaining({ service: "finance-posting", error: "" })]);
    // Every service operations reaches answers when none is named.
    const all = (await get("/v1/parkedMessages")).json.services.map((s: { service: string }) => s.service);
    expect(all.sort()).toEqual([
      "customer-identity",
      "delivery",
      "finance-posting",
      "inventory",
      "operations",
      "order",
    ]);

    // The request id is the Idempotency-Key: the same key again is the same replay.
    const replay = (idempotencyKey: string) =>
      mesh.call("POST", "/v1/parkedMessages:replay", {
        key,
        idempotencyKey,
        body: { service: "finance-posting", queue, eventIds: [eventId], reason: "checking the reader" },
      });
    const replayed = await replay("replay-1");
    expect([replayed.status, replayed.json], JSON.stringify(replayed.json)).toEqual([
      200,
      { replayed: 1, kept: expect.any(Number), repeatedRequest: false },
    ]);
    const again = await replay("replay-1");
    expect([again.headers.get("idempotent-replayed"), again.json]).toEqual(["true", replayed.json]);
    // Audited on the bus, naming the operator's client (the gateway's caller, carried by operations).
    await until(() =>
      expect(audits.of(ParkedMessagesReplayedSchema)).toEqual([
        expect.objectContaining({
          service: "finance-posting",
          queue,
          eventIds: [eventId],
          replayed: 1,
          reason: "checking the reader",
          actor: expect.stringContaining("ops"),
        }),
      ]),
    );
    // Still poison: parked again, by the consumer's second look.
    await until(async () => {
      const again = (await get("/v1/parkedMessages?service=finance-posting")).json.messages;
      expect(
        again.filter((m: { message: { eventId: string } }) => m.message.eventId === eventId),
      ).toHaveLength(1);
    });
    const unknown = await get("/v1/parkedMessages?service=nobody");
    expect([unknown.status, unknown.json.details[0].fieldViolations[0].field]).toEqual([400, "service"]);
  });
});

/** The order's one NOT_IN_LEDGER item, once resolved (finance posted its capture). */
async function resolvedNotInLedger(orderId: string) {
  const { exceptions } = (
    await get("/v1/operationalExceptions?kind=EXCEPTION_KIND_NOT_IN_LEDGER&includeResolved=true&pageSize=200")
  ).json;
  const ours = exceptions.filter((e: { orderId: string }) => e.orderId === orderId);
  expect(ours).toHaveLength(1);
  expect(ours[0].resolveTime).toBeDefined();
  return ours[0];
}

/** Records the capture of an order's whole total through Stripe. */
async function captureInFull(order: { orderId: string; grandTotal: unknown }) {
  const paid = await post(`/v1/orders/${order.orderId}/paymentEvents`, {
    paymentEventId: uniqueName("cap"),
    type: "PAYMENT_EVENT_TYPE_CAPTURE",
    outcome: "PAYMENT_OUTCOME_APPROVED",
    amount: order.grandTotal,
    provider: "stripe",
    providerReference: `ch_${order.orderId}`,
  });
  expect(paid.status, JSON.stringify(paid.json)).toBe(200);
}

/** The newest audit record of a kind whose body mentions `naming`, as JSON. */
async function auditRecord(routingKey: string, naming: string) {
  const { records } = (await get("/v1/auditRecords?limit=50")).json;
  const ours = records.find(
    (r: { routingKey: string; dataJson: string }) =>
      r.routingKey === routingKey && r.dataJson.includes(naming),
  );
  return ours ? JSON.parse(ours.dataJson) : undefined;
}

describe("republishing an aggregate over REST", () => {
  it("has the order service publish a real order's events again, once per key, with their ids, audited", async () => {
    const sku = uniqueName("SKU");
    await receive(sku, "DC-1", 5);
    const order = await submitOrder(sku, 1);
    const streamId = `order:${order.orderId}`;
    const capture = await mesh.capture(["order.#", "admin.aggregate_republished"]);
    const republish = (idempotencyKey: string, body: Record<string, unknown>) =>
      mesh.call("POST", "/v1/aggregates:republish", { key, idempotencyKey, body });
    const done = await republish("again-1", { service: "order", streamId, reason: "ERP lost a day" });
    expect([done.status, done.json], JSON.stringify(done.json)).toEqual([
      200,
      { events: expect.any(Number), repeatedRequest: false },
    ]);
    expect(done.json.events).toBeGreaterThanOrEqual(2);
    expect(
      (await republish("again-1", { service: "order", streamId, reason: "ERP lost a day" })).json,
    ).toEqual(done.json);
    // The stream's events went out again, in order, under their own ids (consumers that had them change nothing).
    const { events } = (await get(`/v1/traces?orderId=${order.orderId}`)).json;
    const ownIds = events
      .filter((e: { aggregateId: string }) => e.aggregateId === streamId)
      .map((e: { eventId: string }) => e.eventId);
    await until(() =>
      expect(capture.events.filter((e) => e.subject === streamId).map((e) => e.id)).toEqual(
        ownIds.slice(0, done.json.events),
      ),
    );
    await until(() =>
      expect(capture.of(AggregateRepublishedSchema)).toEqual([
        expect.objectContaining({
          service: "order",
          streamId,
          events: done.json.events,
          actor: expect.stringContaining("ops"),
        }),
      ]),
    );
    // In the operators' audit trail: who did what, when, with what outcome.
    await until(async () =>
      expect(await auditRecord("admin.aggregate_republished", streamId)).toMatchObject({
        service: "order",
        reason: "ERP lost a day",
        actor: expect.stringContaining("ops"),
      }),
    );
    const missing = await republish(uniqueName("k"), {
      service: "order",
      streamId: "order:nobody",
      reason: "x",
    });
    expect([missing.status, missing.json.details?.[0]?.reason]).toEqual([404, "STREAM_NOT_FOUND"]);
  });

  it("has inventory rebuild its availability read model, once per key, audited, and names a read model it does not have", async () => {
    const rebuild = (idempotencyKey: string, readModel: string) =>
      mesh.call("POST", "/v1/readModels:rebuild", {
        key,
        idempotencyKey,
        body: { service: "inventory", readModel, reason: "figures disputed by a store" },
      });
    const key1 = uniqueName("k");
    const done = await rebuild(key1, "availability");
    expect([done.status, done.json], JSON.stringify(done.json)).toEqual([200, { repeatedRequest: false }]);
    const again = await rebuild(key1, "availability");
    expect([again.headers.get("idempotent-replayed"), again.json]).toEqual(["true", done.json]);
    await until(async () =>
      expect(await auditRecord("admin.read_model_rebuild_requested", key1)).toMatchObject({
        service: "inventory",
        readModel: "availability",
        actor: expect.stringContaining("ops"),
      }),
    );
    const unknown = await rebuild(uniqueName("k"), "stock");
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.json)).toContain("readModel: is not one of this service's read models");
  });
});

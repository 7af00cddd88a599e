// What every channel must obey, over HTTP through the real gateway and services: authentication and
// scopes (rotated without a restart), rate limits, Idempotency-Key replay and conflicts end to end,
// strict and bounded input, channel-bound order visibility, correlation ids into the services' events,
// timeouts, readiness, and errors as google.rpc.Status with the HTTP status of their code.
import { createHash } from "node:crypto";
import { fromBinary } from "@bufbuild/protobuf";
import { OrderAcceptedSchema } from "@retail/contracts/retail/order/v1/order_events_pb";
import { type EventCapture, uniqueName, until } from "@retail/platform/testing";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { orderJson, receiptJson } from "./bodies.js";
import { type GatewayMesh, startGatewayMesh } from "./harness.js";

const digest = (key: string) => createHash("sha256").update(key).digest("hex");
const jwtSecret = "a-shared-secret-of-at-least-32-characters";
const clients = (posKeys: string[], posScopes: string[]): { clients: unknown[]; jwtIssuers: unknown[] } => ({
  clients: [
    {
      id: "ops",
      apiKeySha256: [digest("ops-key")],
      scopes: ["*"],
      rateLimit: { requestsPerSecond: 1000, burst: 1000 },
    },
    { id: "pos", apiKeySha256: posKeys.map(digest), scopes: posScopes, channel: "CHANNEL_POS" },
    {
      id: "amazon",
      apiKeySha256: [digest("amazon-key")],
      scopes: ["order:*"],
      channel: "CHANNEL_MARKETPLACE",
      channelId: "amazon-us",
    },
    {
      id: "tiny",
      apiKeySha256: [digest("tiny-key")],
      scopes: ["inventory:read"],
      rateLimit: { requestsPerSecond: 0.2, burst: 2 },
    },
    { id: "partner", scopes: ["order:read", "inventory:read"] },
  ],
  jwtIssuers: [
    { issuer: "https://id.test", audience: "retail-mesh", secret: jwtSecret, algorithms: ["HS256"] },
  ],
});

let mesh: GatewayMesh;
const ops = { key: "ops-key" };

beforeAll(async () => {
  mesh = await startGatewayMesh("controls", clients(["pos-key-1"], ["order:*", "inventory:*"]), {
    MAX_BODY_BYTES: "4096",
    REQUEST_TIMEOUT_MS: "3000",
    CORS_ORIGINS: "https://shop.test",
  });
  for (const [id, type] of [
    ["DC-1", "LOCATION_TYPE_DISTRIBUTION_CENTER"],
    ["ST-1", "LOCATION_TYPE_STORE"],
  ])
    await mesh.call("PUT", `/v1/locations/${id}`, {
      ...ops,
      body: { type, regionCode: "US" },
      idempotencyKey: uniqueName("loc"),
    });
  for (const [channelId, channel] of [
    ["web", "CHANNEL_WEB"],
    ["amazon-us", "CHANNEL_MARKETPLACE"],
  ]) {
    const rule = { channel, locationIds: ["DC-1"], promises: ["FULFILLMENT_PROMISE_SHIP_FROM_DC"] };
    const answer = await mesh.call("PUT", `/v1/channelRules/${channelId}`, {
      ...ops,
      body: rule,
      idempotencyKey: uniqueName("rule"),
    });
    expect(answer.status).toBe(200);
  }
}, 120_000);
afterAll(async () => mesh?.stopAll(), 60_000);

async function stocked(quantity: number): Promise<string> {
  const sku = uniqueName("SKU");
  expect(
    (await mesh.call("POST", "/v1/movements", { ...ops, body: receiptJson(sku, "DC-1", quantity) })).status,
  ).toBe(200);
  return sku;
}

const orderBody = (sku: string, channel?: string, channelId?: string) =>
  orderJson(sku, { ...(channel ? { channel } : {}), ...(channelId ? { channelId } : {}) });

/** The OrderAccepted events of one order, with their correlation ids. */
function accepted(capture: EventCapture, orderId: string) {
  return capture.events.filter(
    (e) =>
      e.type === OrderAcceptedSchema.typeName &&
      fromBinary(OrderAcceptedSchema, e.data).order?.orderId === orderId,
  );
}

const reasonOf = (json: { details?: Array<{ reason?: string }> }) =>
  json.details?.find((d) => d.reason)?.reason;

describe("authentication and scopes", () => {
  it("refuses missing and unknown API keys and bad tokens with 401, accepts a signed JWT for a known client", async () => {
    const none = await mesh.call("GET", "/v1/locations");
    expect([none.status, none.json.code, reasonOf(none.json)]).toEqual([401, 16, "CREDENTIALS_MISSING"]);
    const wrong = await mesh.call("GET", "/v1/locations", { key: "guessed" });
    expect([wrong.status, reasonOf(wrong.json)]).toEqual([401, "API_KEY_INVALID"]);
    const token = (sub: string, expires: string) =>
      new SignJWT({ sub, scope: "order:read" })
        .setProtectedHeader({ alg: "HS256" })
        .setIssuer("https://id.test")
        .setAudience("retail-mesh")
        .setExpirationTime(expires)
        .sign(new TextEncoder().encode(jwtSecret));
    const bearer = async (t: string, path: string) =>
      mesh.call("GET", path, { headers: { authorization: `Bearer ${t}` } });
    const expired = await bearer(await token("partner", "-1m"), "/v1/orders");
    expect([expired.status, reasonOf(expired.json)]).toEqual([401, "TOKEN_EXPIRED"]);
    expect((await bearer(await token("partner", "5m"), "/v1/orders")).status).toBe(200);
    // The token's scope claim narrows the client's grant: inventory:read is the client's but not the token's.
    const narrowed = await bearer(await token("partner", "5m"), "/v1/locations");
    expect([narrowed.status, narrowed.json.code, reasonOf(narrowed.json)]).toEqual([403, 7, "SCOPE_MISSING"]);
  });

  it("refuses an operation outside the client's scopes with 403: a POS key cannot read finance", async () => {
    const answer = await mesh.call("GET", "/v1/journalEntries", { key: "pos-key-1" });
    expect(answer.status).toBe(403);
    expect(answer.json.details[0]).toMatchObject({
      reason: "SCOPE_MISSING",
      metadata: { scope: "finance:read", client: "pos" },
    });
  });

  it("rotates keys and scopes from the clients file without a restart", async () => {
    mesh.writeClients(clients(["pos-key-1", "pos-key-2"], ["order:*", "inventory:*", "finance:read"]));
    await until(async () =>
      expect((await mesh.call("GET", "/v1/journalEntries", { key: "pos-key-2" })).status).toBe(200),
    );
    mesh.writeClients(clients(["pos-key-2"], ["order:*", "inventory:*"]));
    await until(async () =>
      expect((await mesh.call("GET", "/v1/locations", { key: "pos-key-1" })).status).toBe(401),
    );
    expect((await mesh.call("GET", "/v1/journalEntries", { key: "pos-key-2" })).status).toBe(403);
    expect((await mesh.call("GET", "/v1/locations", { key: "pos-key-2" })).status).toBe(200);
    // A broken edit is ignored: the last good configuration stays in force.
    const ignored = (await mesh.metric(/^gateway_clients_file_reloads_total\{[^}]*outcome="ignored"/)) ?? 0;
    mesh.writeClients({ clients: [{ id: "Not Valid" }] });
    await until(async () =>
      expect(await mesh.metric(/^gateway_clients_file_reloads_total\{[^}]*outcome="ignored"/)).toBe(
        ignored + 1,
      ),
    );
    expect((await mesh.call("GET", "/v1/locations", { key: "pos-key-2" })).status).toBe(200);
    mesh.writeClients(clients(["pos-key-1"], ["order:*", "inventory:*"]));
    await until(async () =>
      expect((await mesh.call("GET", "/v1/locations", { key: "pos-key-1" })).status).toBe(200),
    );
  });
});

describe("rate limits", () => {
  it("answers 429 with Retry-After once a client's burst is spent, without slowing other clients", async () => {
    const statuses: number[] = [];
    let refused: Awaited<ReturnType<GatewayMesh["call"]>> | undefined;
    for (let i = 0; i < 3; i++) {
      const answer = await mesh.call("GET", "/v1/locations", { key: "tiny-key" });
      statuses.push(answer.status);
      if (answer.status === 429) refused = answer;
    }
    expect(statuses).toEqual([200, 200, 429]);
    expect(refused?.headers.get("retry-after")).toBe("5"); // one request per 5 s
    expect(refused?.json).toMatchObject({ code: 8, details: [{ reason: "RATE_LIMITED" }] });
    expect((await mesh.call("GET", "/v1/locations", ops)).status).toBe(200);
  });
});

describe("Idempotency-Key", () => {
  it("replays the first answer, refuses the key with another body (422), and answers 409 while the first is in flight", async () => {
    const sku = await stocked(5);
    const capture = await mesh.capture(["order.#"]);
    const key = uniqueName("idem");
    const body = orderBody(sku);
    mesh.orderProxy.holdResponses();
    const first = mesh.call("POST", "/v1/orders", { ...ops, body, idempotencyKey: key });
    await until(async () => expect(await mesh.idempotencyState("ops", key)).toBe("in-flight"));
    await until(async () => {
      const concurrent = await mesh.call("POST", "/v1/orders", { ...ops, body, idempotencyKey: key });
      expect([concurrent.status, reasonOf(concurrent.json)]).toEqual([409, "IDEMPOTENCY_KEY_IN_FLIGHT"]);
    });
    mesh.orderProxy.releaseResponses();
    const answer = await first;
    expect(answer.status).toBe(200);
    const replay = await mesh.call("POST", "/v1/orders", { ...ops, body, idempotencyKey: key });
    expect(replay.status).toBe(200);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.json).toEqual(answer.json);
    const changed = await mesh.call("POST", "/v1/orders", {
      ...ops,
      body: { ...body, currencyCode: "EUR" },
      idempotencyKey: key,
    });
    expect([changed.status, reasonOf(changed.json)]).toEqual([422, "IDEMPOTENCY_KEY_REUSED"]);
    await until(() => expect(accepted(capture, answer.json.order.orderId)).toHaveLength(1));
  });

  it("times out a slow call with 504 and lets the retry with the same key reach the service as the same request", async () => {
    const sku = await stocked(5);
    const capture = await mesh.capture(["order.#"]);
    const key = uniqueName("slow");
    const body = orderBody(sku);
    mesh.orderProxy.holdResponses();
    const timedOut = await mesh.call("POST", "/v1/orders", { ...ops, body, idempotencyKey: key });
    expect([timedOut.status, timedOut.json.code]).toEqual([504, 4]);
    mesh.orderProxy.releaseResponses();
    const retried = await mesh.call("POST", "/v1/orders", { ...ops, body, idempotencyKey: key });
    expect(retried.status).toBe(200);
    expect(retried.headers.get("idempotent-replayed")).toBeNull(); // the gateway forgot the timed-out try …
    const orderId = retried.json.order.orderId;
    await until(() => expect(accepted(capture, orderId)).toHaveLength(1));
    await new Promise((r) => setTimeout(r, 500));
    expect(accepted(capture, orderId)).toHaveLength(1); // … the service did not
    const position = await mesh.call("GET", `/v1/locations/DC-1/skus/${sku}/position`, ops);
    expect(position.json.position).toMatchObject({ onHand: "5", reserved: "1" });
  });

  it("requires the key where the operation has a request id, and refuses a body that sets the request id", async () => {
    const missing = await mesh.call("POST", "/v1/orders", { ...ops, body: orderBody("SKU-X") });
    expect(missing.status).toBe(400);
    expect(missing.json.details[0].fieldViolations[0]).toMatchObject({ field: "Idempotency-Key" });
    const own = await mesh.call("POST", "/v1/orders", {
      ...ops,
      body: { ...orderBody("SKU-X"), requestId: "mine" },
      idempotencyKey: uniqueName("k"),
    });
    expect(own.json.details[0].fieldViolations).toEqual([
      { field: "request_id", description: "is set from the Idempotency-Key header, not the body" },
    ]);
  });
});

describe("strict, bounded input", () => {
  it("refuses malformed JSON, unknown fields, operator keys, other media types and oversized bodies, applying nothing", async () => {
    const sku = uniqueName("SKU");
    const movement = receiptJson(sku, "DC-1", 3);
    const malformed = await mesh.call("POST", "/v1/movements", { ...ops, rawBody: '{"movementId": "m1",' });
    expect(malformed.status).toBe(400);
    expect(malformed.json.details[0].fieldViolations[0]).toMatchObject({ field: "(body)" });
    expect(malformed.json.details[0].fieldViolations[0].description).toMatch(/^is not valid JSON/);
    const unknown = await mesh.call("POST", "/v1/movements", {
      ...ops,
      body: { ...movement, colour: "red" },
    });
    expect(unknown.json.details[0].fieldViolations).toEqual([
      { field: "movement.colour", description: "unknown field of retail.inventory.v1.StockMovement" },
    ]);
    const operator = await mesh.call("GET", `/v1/orders?customerId[$ne]=x`, ops);
    expect([operator.status, operator.json.details[0].fieldViolations[0].field]).toEqual([
      400,
      "customerId[$ne]",
    ]);
    const nested = await mesh.call("POST", "/v1/availability:batchGet", {
      ...ops,
      body: { requests: [{ sku: { $gt: "" } }, { sku: "A", $where: "1" }] },
    });
    expect([nested.status, nested.json.details[0].fieldViolations]).toEqual([
      400,
      [
        { field: "requests[0].sku", description: "must be a string" },
        { field: "requests[1].$where", description: 'keys starting with "$" are not accepted' },
      ],
    ]);
    const text = await mesh.call("POST", "/v1/movements", {
      ...ops,
      rawBody: JSON.stringify(movement),
      headers: { "content-type": "text/plain" },
    });
    expect([text.status, reasonOf(text.json)]).toEqual([415, "UNSUPPORTED_MEDIA_TYPE"]);
    const huge = await mesh.call("POST", "/v1/movements", {
      ...ops,
      body: { ...movement, reason: "x".repeat(5_000) },
    });
    expect([huge.status, reasonOf(huge.json)]).toEqual([413, "BODY_TOO_LARGE"]);
    const position = await mesh.call("GET", `/v1/locations/DC-1/skus/${sku}/position`, ops);
    expect(position.json.position?.onHand ?? "0").toBe("0");
  });

  it("maps service errors to HTTP statuses with their details, and unknown routes and methods to 404 and 405", async () => {
    const sku = await stocked(1);
    const reserve = {
      orderId: uniqueName("o"),
      lines: [{ lineId: "1", sku, locationId: "DC-1", quantity: "5" }],
      ttl: "60s",
    };
    const short = await mesh.call("POST", "/v1/reservations", {
      ...ops,
      body: reserve,
      idempotencyKey: uniqueName("r"),
    });
    expect([short.status, short.json.code, reasonOf(short.json)]).toEqual([400, 9, "INSUFFICIENT_STOCK"]);
    const invalid = await mesh.call("POST", "/v1/orders", {
      ...ops,
      body: { channel: "CHANNEL_WEB" },
      idempotencyKey: uniqueName("k"),
    });
    expect(invalid.status).toBe(400);
    expect(invalid.json.details[0]["@type"]).toBe("type.googleapis.com/google.rpc.BadRequest");
    expect(invalid.json.details[0].fieldViolations.map((v: { field: string }) => v.field)).toContain(
      "channel_order_id",
    );
    const missing = await mesh.call("GET", "/v1/orders/ord-nope", ops);
    expect([missing.status, missing.json.code, reasonOf(missing.json)]).toEqual([404, 5, "ORDER_NOT_FOUND"]);
    const route = await mesh.call("GET", "/v1/warehouses", ops);
    expect([route.status, reasonOf(route.json)]).toEqual([404, "ROUTE_NOT_FOUND"]);
    const method = await mesh.call("DELETE", "/v1/orders/ord-1", ops);
    expect([method.status, method.headers.get("allow")]).toEqual([405, "GET"]);
    expect(JSON.stringify([short.json, invalid.json, missing.json])).not.toMatch(/at .*\.ts|Error:/);
  });
});

describe("channel-bound clients", () => {
  it("lets a marketplace key see and change only its own orders", async () => {
    const sku = await stocked(10);
    const web = await mesh.call("POST", "/v1/orders", {
      ...ops,
      body: orderBody(sku),
      idempotencyKey: uniqueName("w"),
    });
    const amazon = { key: "amazon-key" };
    const own = await mesh.call("POST", "/v1/orders", {
      ...amazon,
      body: orderBody(sku, "CHANNEL_MARKETPLACE", "amazon-us"),
      idempotencyKey: uniqueName("a"),
    });
    expect(own.status, JSON.stringify(own.json)).toBe(200);
    const foreign = await mesh.call("POST", "/v1/orders", {
      ...amazon,
      body: orderBody(sku),
      idempotencyKey: uniqueName("a"),
    });
    expect([foreign.status, reasonOf(foreign.json)]).toEqual([403, "CHANNEL_NOT_ALLOWED"]);
    expect((await mesh.call("GET", `/v1/orders/${own.json.order.orderId}`, amazon)).status).toBe(200);
    const peek = await mesh.call("GET", `/v1/orders/${web.json.order.orderId}`, amazon);
    expect([peek.status, reasonOf(peek.json)]).toEqual([404, "ORDER_NOT_FOUND"]);
    const cancel = await mesh.call("POST", `/v1/orders/${web.json.order.orderId}:cancel`, {
      ...amazon,
      body: {},
      idempotencyKey: uniqueName("c"),
    });
    expect(cancel.status).toBe(404);
    expect((await mesh.call("GET", `/v1/orders/${web.json.order.orderId}`, ops)).json.order.status).toBe(
      "ORDER_STATUS_ACCEPTED",
    );
    const listed = await mesh.call("GET", "/v1/orders?pageSize=100", amazon);
    expect(listed.json.orders.map((o: { orderId: string }) => o.orderId)).toEqual([own.json.order.orderId]);
    const other = await mesh.call("GET", "/v1/orders?channel=CHANNEL_WEB", amazon);
    expect(other.status).toBe(403);
  });
});

describe("browser channels", () => {
  it("answers CORS preflights and marks answers only for configured origins", async () => {
    const preflight = (origin: string) =>
      mesh.call("OPTIONS", "/v1/orders", {
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "idempotency-key",
        },
      });
    const allowed = await preflight("https://shop.test");
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://shop.test");
    expect(allowed.headers.get("access-control-allow-headers")).toContain("idempotency-key");
    const foreign = await preflight("https://evil.test");
    expect([foreign.status, foreign.headers.get("access-control-allow-origin")]).toEqual([403, null]);
    const call = await mesh.call("GET", "/v1/locations", {
      ...ops,
      headers: { origin: "https://shop.test" },
    });
    expect(call.headers.get("access-control-allow-origin")).toBe("https://shop.test");
    expect(call.headers.get("access-control-expose-headers")).toContain("x-request-id");
    const other = await mesh.call("GET", "/v1/locations", {
      ...ops,
      headers: { origin: "https://evil.test" },
    });
    expect([other.status, other.headers.get("access-control-allow-origin")]).toEqual([200, null]);
  });
});

describe("correlation, timeouts and readiness", () => {
  it("returns the caller's X-Request-Id, or its trace id, and carries it to the services' events", async () => {
    const sku = await stocked(2);
    const capture = await mesh.capture(["order.#"]);
    const correlationId = uniqueName("corr");
    const answer = await mesh.call("POST", "/v1/orders", {
      ...ops,
      body: orderBody(sku),
      idempotencyKey: uniqueName("k"),
      headers: { "x-request-id": correlationId },
    });
    expect(answer.headers.get("x-request-id")).toBe(correlationId);
    await until(() =>
      expect(accepted(capture, answer.json.order.orderId).map((e) => e.correlationId)).toEqual([
        correlationId,
      ]),
    );
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const traced = await mesh.call("GET", "/v1/locations", {
      ...ops,
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    expect(traced.headers.get("x-request-id")).toBe(traceId);
    expect(traced.headers.get("traceparent")).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    const fresh = await mesh.call("GET", "/v1/locations", ops);
    expect(fresh.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("reports not ready while a service is unreachable, and answers its calls 503", async () => {
    expect((await fetch(`${mesh.url}/readyz`)).status).toBe(200);
    await mesh.orderProxy.cut();
    try {
      const ready = await fetch(`${mesh.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { dependencies: Record<string, string> }).dependencies).toMatchObject({
        "retail.order.v1.OrderService": "UNREACHABLE",
        "retail.inventory.v1.InventoryService": "SERVING",
      });
      const call = await mesh.call("GET", "/v1/orders/ord-1", ops);
      expect([call.status, call.json.code]).toEqual([503, 14]);
      expect((await fetch(`${mesh.url}/healthz`)).status).toBe(200);
    } finally {
      await mesh.orderProxy.restore();
    }
    await until(async () => expect((await fetch(`${mesh.url}/readyz`)).status).toBe(200));
  });
});

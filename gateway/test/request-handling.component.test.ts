// How a call is handled once admitted, over HTTP through the real gateway and services: the
// Idempotency-Key end to end (replay, conflicts, a retry after a timeout), strict and bounded input,
// errors as google.rpc.Status with the HTTP status of their code, correlation ids into the services'
// events, and readiness.
import { fromBinary } from "@bufbuild/protobuf";
import { OrderAcceptedSchema } from "@retail/contracts/retail/order/v1/order_events_pb";
import { type EventCapture, uniqueName, until } from "@retail/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { orderJson, receiptJson } from "./bodies.js";
import { type GatewayMesh, startGatewayMesh } from "./harness.js";
import { reasonOf, restClient, sha256 } from "./rest-client.js";

let mesh: GatewayMesh;
const ops = { key: "ops-key" };
const admin = restClient(() => mesh, ops.key);

beforeAll(async () => {
  mesh = await startGatewayMesh(
    "requests",
    {
      clients: [
        {
          id: "ops",
          apiKeySha256: [sha256(ops.key)],
          scopes: ["*"],
          rateLimit: { requestsPerSecond: 1000, burst: 1000 },
        },
      ],
    },
    { MAX_BODY_BYTES: "4096", REQUEST_TIMEOUT_MS: "3000" },
  );
  await admin.setUpLocations();
}, 120_000);
afterAll(async () => mesh?.stopAll(), 60_000);

const stocked = (quantity: number) => admin.stocked(quantity);

const orderBody = (sku: string) => orderJson(sku);

/** The OrderAccepted events of one order, with their correlation ids. */
function accepted(capture: EventCapture, orderId: string) {
  return capture.events.filter(
    (e) =>
      e.type === OrderAcceptedSchema.typeName &&
      fromBinary(OrderAcceptedSchema, e.data).order?.orderId === orderId,
  );
}

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
      { field: "requestId", description: "is set from the Idempotency-Key header, not the body" },
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
      { field: "colour", description: "unknown field of retail.inventory.v1.StockMovement" },
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
      "channelOrderId",
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

describe("overload", () => {
  it("sheds requests beyond its limit at the door with 503 and Retry-After, and takes them again once calls finish", async () => {
    const replica = await mesh.startReplica({ MAX_IN_FLIGHT: "2" });
    const get = () =>
      fetch(`${replica.url}/v1/orders/ord-held`, { headers: { "x-api-key": ops.key } }).then(async (r) => ({
        status: r.status,
        retryAfter: r.headers.get("retry-after"),
        json: (await r.json()) as { code: number; details: Array<{ reason?: string }> },
      }));
    mesh.orderProxy.holdResponses();
    let held: Array<Promise<Awaited<ReturnType<typeof get>>>> = [];
    try {
      held = [get(), get()];
      // Both are with the order service (held there); the third is refused without reaching it.
      await until(async () => {
        const shed = await get();
        expect([shed.status, shed.retryAfter, shed.json.code]).toEqual([503, "1", 14]);
        expect(shed.json.details[0]?.reason).toBe("OVERLOADED");
      });
      // Health and readiness are never shed.
      expect((await fetch(`${replica.url}/healthz`)).status).toBe(200);
    } finally {
      mesh.orderProxy.releaseResponses();
    }
    expect((await Promise.all(held)).map((a) => a.status)).toEqual([404, 404]);
    expect((await get()).status).toBe(404);
  }, 60_000);
});

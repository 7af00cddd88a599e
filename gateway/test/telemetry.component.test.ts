// One order's OpenTelemetry trace, exported over OTLP/HTTP protobuf by every process it touched to a real
// receiver (tools/otlp-receiver: the Collector's own decoding): the gateway (a process of its own here),
// the order service, customer-identity and inventory over gRPC, and, through the broker, finance-posting
// and operations, and the webhook delivery service posting it to a subscribed ERP. The spans form one
// tree under the channel's own traceparent.
import {
  type OtlpReceiver,
  type ReceivedSpan,
  startOtlpReceiver,
  uniqueName,
  until,
} from "@retail/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startReceiver } from "../../services/delivery/test/harness.js";
import { orderJson } from "./bodies.js";
import { type GatewayMesh, startGatewayMesh } from "./harness.js";
import { restClient, sha256 } from "./rest-client.js";

const key = "telemetry-key";
let receiver: OtlpReceiver;
let mesh: GatewayMesh;
let tracedGateway: string;
let erp: Awaited<ReturnType<typeof startReceiver>>;
const { post, stocked, setUpLocations } = restClient(() => mesh, key);

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  const telemetry = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_BSP_SCHEDULE_DELAY: "100" };
  mesh = await startGatewayMesh(
    "telemetry",
    { clients: [{ id: "web", apiKeySha256: [sha256(key)], scopes: ["*"], channel: "CHANNEL_WEB" }] },
    {},
    "warn",
    telemetry,
  );
  tracedGateway = (await mesh.startReplica(telemetry)).url;
  await setUpLocations();
  // An ERP subscribed to accepted orders: its delivery is part of the order's trace too.
  erp = await startReceiver();
  const endpoint = erp.endpoint("erp");
  const created = await post("/v1/subscriptions", {
    subscriptionId: "erp-traced",
    url: endpoint.url,
    filter: { eventTypes: ["order.order_accepted"] },
  });
  expect(created.status, JSON.stringify(created.json)).toBe(200);
  await endpoint.control({ mode: "ok", secrets: [created.json.signingSecret] });
}, 120_000);
afterAll(async () => {
  await mesh?.stopAll();
  await receiver?.stop();
  await erp?.stop();
}, 60_000);

const expectedServices = [
  "gateway",
  "order",
  "customer-identity",
  "inventory",
  "finance-posting",
  "operations",
  "delivery",
];

describe("telemetry", () => {
  it("exports one order's spans from every process it touched, as one tree under the caller's traceparent", async () => {
    const sku = await stocked(5);
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const callerSpan = "00f067aa0ba902b7";
    const answer = await fetch(`${tracedGateway}/v1/orders`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-api-key": key,
        "idempotency-key": uniqueName("k"),
        traceparent: `00-${traceId}-${callerSpan}-01`,
      },
      body: JSON.stringify(orderJson(sku, { quantity: 2 })),
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get("traceparent")).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));

    const spans = await until(
      async () => {
        const found = await receiver.spans(traceId);
        expect(new Set(found.map((span) => span.service))).toEqual(new Set(expectedServices));
        expect(found.map((span) => span.name)).toContain("deliver order.order_accepted");
        // Each process sends its spans as they end: wait for the parents of the last ones too.
        const ids = new Set([callerSpan, ...found.map((span) => span.spanId)]);
        expect(
          found.filter((span) => !ids.has(span.parentSpanId)).map((s) => `${s.service} ${s.name}`),
        ).toEqual([]);
        return found;
      },
      { timeout: 20_000, interval: 200 },
    );
    const byId = new Map(spans.map((span) => [span.spanId, span]));
    const parentOf = (span: ReceivedSpan) => byId.get(span.parentSpanId);

    // The gateway's request is the child of the caller's span (every other span's parent is in the trace).
    const request = spans.find((s) => s.service === "gateway" && s.kind === "Server");
    expect(request).toMatchObject({
      name: "POST /v1/orders",
      parentSpanId: callerSpan,
      attributes: { "http.route": "POST /v1/orders", "http.response.status_code": 200 },
    });
    expect(answer.headers.get("traceparent")).toBe(`00-${traceId}-${request?.spanId}-01`);
    for (const span of spans) expect(span.endUnixNano).toBeGreaterThanOrEqual(span.startUnixNano);

    // gRPC: the gateway's client span is the parent of the order service's server span, which calls on.
    const submit = spans.find(
      (s) => s.service === "order" && s.name === "retail.order.v1.OrderService/SubmitOrder",
    );
    expect(submit?.kind).toBe("Server");
    expect(parentOf(submit as ReceivedSpan)).toMatchObject({
      service: "gateway",
      kind: "Client",
      name: submit?.name,
    });
    for (const callee of ["customer-identity", "inventory"]) {
      const served = spans.find((s) => s.service === callee && s.kind === "Server");
      expect(served?.attributes["rpc.system"], callee).toBe("grpc");
      const client = parentOf(served as ReceivedSpan);
      expect(client).toMatchObject({ service: "order", kind: "Client" });
      expect(parentOf(client as ReceivedSpan)).toBe(submit);
    }

    // The broker: the order service's publish of order_accepted is the parent of each consumer's process span.
    const publish = spans.find((s) => s.service === "order" && s.name === "publish order.order_accepted");
    expect(publish?.kind).toBe("Producer");
    for (const consumer of ["finance-posting", "operations", "delivery"]) {
      const processed = spans.find(
        (s) => s.service === consumer && s.kind === "Consumer" && s.parentSpanId === publish?.spanId,
      );
      expect(processed?.name, consumer).toBe("process retail.order.v1.OrderAccepted");
      expect(processed?.status).toBe("Unset");
    }
    // The webhook to the ERP: a client span of the delivery service's handling of that event, with its answer.
    const handled = spans.find((s) => s.service === "delivery" && s.kind === "Consumer");
    const webhook = spans.find((s) => s.service === "delivery" && s.name === "deliver order.order_accepted");
    expect(webhook).toMatchObject({
      kind: "Client",
      parentSpanId: handled?.spanId,
      attributes: {
        "webhook.subscription_id": "erp-traced",
        "http.response.status_code": 204,
        "webhook.attempt": 1,
      },
    });
  });
});

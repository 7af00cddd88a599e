// One order's OpenTelemetry trace, exported over OTLP/HTTP protobuf by every process it touched to a real
// receiver (tools/otlp-receiver: the Collector's own decoding): the gateway (a process of its own here),
// the order service, customer-identity and inventory over gRPC, and, through the broker, finance-posting
// and operations. The spans form one tree under the channel's own traceparent.
import {
  type OtlpReceiver,
  type ReceivedSpan,
  startOtlpReceiver,
  uniqueName,
  until,
} from "@retail/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { orderJson } from "./bodies.js";
import { type GatewayMesh, startGatewayMesh } from "./harness.js";
import { restClient, sha256 } from "./rest-client.js";

const key = "telemetry-key";
let receiver: OtlpReceiver;
let mesh: GatewayMesh;
let tracedGateway: string;
const { stocked, setUpLocations } = restClient(() => mesh, key);

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
}, 120_000);
afterAll(async () => {
  await mesh?.stopAll();
  await receiver?.stop();
}, 60_000);

const expectedServices = [
  "gateway",
  "order",
  "customer-identity",
  "inventory",
  "finance-posting",
  "operations",
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
    for (const consumer of ["finance-posting", "operations"]) {
      const processed = spans.find(
        (s) => s.service === consumer && s.kind === "Consumer" && s.parentSpanId === publish?.spanId,
      );
      expect(processed?.name, consumer).toBe("process retail.order.v1.OrderAccepted");
      expect(processed?.status).toBe("Unset");
    }
  });
});

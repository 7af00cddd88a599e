// The gateway README's "A channel developer's first ten minutes", run as written (bash and curl) against
// a running mesh with the development clients: what a new channel developer copies must work.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { uniqueName } from "@retail/platform/testing";
import createClient from "openapi-fetch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { paths } from "./generated/openapi.js";
import { type ClientsJson, type GatewayMesh, startGatewayMesh } from "./harness.js";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const devClients = JSON.parse(
  readFileSync(new URL("../config/clients.dev.json", import.meta.url), "utf8"),
) as ClientsJson;
let mesh: GatewayMesh;

beforeAll(async () => {
  mesh = await startGatewayMesh("quickstart", devClients);
}, 120_000);
afterAll(async () => mesh?.stopAll(), 60_000);

/** The README's quick start block, pointed at this mesh, with ids of this run. */
function quickStart(): string {
  const from = readme.indexOf("### A channel developer's first ten minutes");
  const start = readme.indexOf("```sh\n", from) + 6;
  const block = readme.slice(start, readme.indexOf("```\n", start));
  const run = uniqueName("qs").replace(/[^a-zA-Z0-9]/g, "");
  return block
    .replace("G=http://127.0.0.1:8080", `G=${mesh.url}`)
    .replaceAll("qs-", `${run}-`)
    .replaceAll("QS-MUG", `${run}-MUG`);
}

describe("the README's quick start", () => {
  it("stocks a SKU, reads availability, takes an order once under its key, rejects one too big, and names a bad request's fields", async () => {
    // Not spawnSync: the gateway answering curl runs in this process.
    const { stdout: out } = await promisify(execFile)("bash", ["-e", "-c", quickStart()], {
      timeout: 60_000,
    });
    const statuses = [...out.matchAll(/"status":"(ORDER_STATUS_[A-Z_]+)"/g)].map((m) => m[1]);
    // Accepted, the same order replayed, then the one too big rejected with its reason.
    expect(statuses).toEqual(["ORDER_STATUS_ACCEPTED", "ORDER_STATUS_ACCEPTED", "ORDER_STATUS_REJECTED"]);
    expect(out.match(/idempotent-replayed: true/gi)).toHaveLength(1);
    expect(out).toMatch(/"rejectionReasons":\["insufficient stock: [^"]+ requested 50, available 8"\]/);
    expect(out).toMatch(/"availability":\[\{"sku":"[^"]+","locationId":"DC-1"[^\]]*"available":"10"/);
    expect(out).toContain('{"field":"channelOrderId","description":"is required"}');
  });

  it("runs the same first ten minutes through a client typed from the OpenAPI document (openapi-typescript, openapi-fetch)", async () => {
    const run = uniqueName("typed").replace(/[^a-zA-Z0-9]/g, "");
    const as = (key: string) => createClient<paths>({ baseUrl: mesh.url, headers: { "X-Api-Key": key } });
    const operator = as("dev-admin-key");
    const web = as("dev-web-key");
    const sku = `${run}-MUG`;
    const location = await operator.PUT("/v1/locations/{location.location_id}", {
      params: { path: { "location.location_id": "DC-1" }, header: { "Idempotency-Key": `${run}-dc` } },
      body: {
        type: "LOCATION_TYPE_DISTRIBUTION_CENTER",
        regionCode: "US",
        name: "DC 1",
        address: { regionCode: "US", administrativeArea: "NY" },
      },
    });
    expect(location.response.status, JSON.stringify(location.error)).toBe(200);
    const rule = await operator.PUT("/v1/channelRules/{rule.channel_id}", {
      params: { path: { "rule.channel_id": "web" }, header: { "Idempotency-Key": `${run}-web` } },
      body: { channel: "CHANNEL_WEB", locationIds: ["DC-1"], promises: ["FULFILLMENT_PROMISE_SHIP_FROM_DC"] },
    });
    expect(rule.data?.rule?.channelId).toBe("web");
    const stocked = await operator.POST("/v1/movements", {
      params: { header: { "Idempotency-Key": `${run}-stock` } },
      body: {
        movementId: `${run}-1`,
        type: "MOVEMENT_TYPE_GOODS_RECEIPT",
        sku,
        locationId: "DC-1",
        quantity: "10",
      },
    });
    expect(stocked.response.status).toBe(200);

    const available = await web.GET("/v1/channels/{channel_id}/skus/{sku}/availability", {
      params: { path: { channel_id: "web", sku } },
    });
    expect(available.data?.channelTotal?.available).toBe("10");
    expect(available.data?.availability?.map((a) => a.locationId)).toEqual(["DC-1"]);

    const order = (channelOrderId: string, quantity: string) => ({
      channel: "CHANNEL_WEB" as const,
      channelId: "web",
      channelOrderId,
      currencyCode: "USD",
      customer: {
        sourceSystem: "shopify-web",
        sourceId: `acct-${run}`,
        email: `${run}@example.com`,
        familyName: "Doe",
      },
      shipTo: { lines: ["1 Main St"], administrativeArea: "NY", regionCode: "US", postalCode: "10001" },
      lines: [
        {
          lineId: "1",
          sku,
          quantity,
          unitPrice: { currencyCode: "USD", minorUnits: "1250" },
          fulfillmentType: "FULFILLMENT_TYPE_SHIP" as const,
        },
      ],
    });
    const submit = (key: string, body: ReturnType<typeof order>) =>
      web.POST("/v1/orders", { params: { header: { "Idempotency-Key": key } }, body });
    const first = await submit(`${run}-order-1`, order(`${run}-1001`, "2"));
    expect(first.data?.order?.status).toBe("ORDER_STATUS_ACCEPTED");
    const again = await submit(`${run}-order-1`, order(`${run}-1001`, "2"));
    expect([again.response.headers.get("idempotent-replayed"), again.data?.order?.orderId]).toEqual([
      "true",
      first.data?.order?.orderId,
    ]);
    const reused = await submit(`${run}-order-1`, order(`${run}-1001`, "3"));
    expect(reused.response.status).toBe(422);
    const tooBig = await submit(`${run}-order-2`, order(`${run}-1002`, "50"));
    expect(tooBig.data?.order?.status).toBe("ORDER_STATUS_REJECTED");
    expect(tooBig.data?.order?.rejectionReasons?.[0]).toMatch(/^insufficient stock/);
  });
});

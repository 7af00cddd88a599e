// A caller of the gateway with one API key, for the component tests: GET, and POST/PUT with a fresh
// Idempotency-Key each, plus the stock and order set-up most tests need.
import { createHash } from "node:crypto";
import { uniqueName } from "@retail/platform/testing";
import { expect } from "vitest";
import { orderJson, receiptJson } from "./bodies.js";
import type { GatewayMesh } from "./harness.js";

export const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** A client with every scope and a rate limit no test reaches, for the operator's key. */
export const operatorClient = (key: string) => ({
  id: "ops",
  apiKeySha256: [sha256(key)],
  scopes: ["*"],
  rateLimit: { requestsPerSecond: 1000, burst: 1000 },
});

/** The reason of the first ErrorInfo of a google.rpc.Status body. */
export const reasonOf = (json: { details?: Array<{ reason?: string }> }) =>
  json.details?.find((d) => d.reason)?.reason;

export function restClient(mesh: () => GatewayMesh, key: string) {
  const get = (path: string) => mesh().call("GET", path, { key });
  const post = (path: string, body: unknown) =>
    mesh().call("POST", path, { key, body, idempotencyKey: uniqueName("k") });
  const put = (path: string, body: unknown) =>
    mesh().call("PUT", path, { key, body, idempotencyKey: uniqueName("k") });
  return {
    get,
    post,
    put,
    /** Receives stock of a SKU at a location. */
    async receive(sku: string, locationId: string, quantity: number) {
      expect((await post("/v1/movements", receiptJson(sku, locationId, quantity))).status).toBe(200);
    },
    /** One unit of a SKU received at DC-1 that the source system reports `minutes` after it happened. */
    async receivedLate(sku: string, minutes: number, sourceSystem: string) {
      const answer = await post("/v1/movements", {
        movementId: uniqueName("late"),
        type: "MOVEMENT_TYPE_GOODS_RECEIPT",
        sku,
        locationId: "DC-1",
        quantity: "1",
        sourceSystem,
        occurTime: new Date(Date.now() - minutes * 60_000).toISOString(),
      });
      expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    },
    /** A fresh SKU with `quantity` units received at DC-1. */
    async stocked(quantity: number): Promise<string> {
      const sku = uniqueName("SKU");
      expect((await post("/v1/movements", receiptJson(sku, "DC-1", quantity))).status).toBe(200);
      return sku;
    },
    /** Submits a web order of one line and returns the accepted order's JSON. */
    async submitOrder(sku: string, quantity: number, line: Record<string, string> = {}) {
      const answer = await post("/v1/orders", orderJson(sku, { quantity, line }));
      expect(answer.status, JSON.stringify(answer.json)).toBe(200);
      return answer.json.order;
    },
    /** Registers a DC and a store, and the "web" channel shipping from the DC and handing over in the store. */
    async setUpLocations() {
      for (const [id, type] of [
        ["DC-1", "LOCATION_TYPE_DISTRIBUTION_CENTER"],
        ["ST-1", "LOCATION_TYPE_STORE"],
      ])
        expect(
          (
            await put(`/v1/locations/${id}`, {
              type,
              regionCode: "US",
              name: id,
              address: { regionCode: "US", administrativeArea: "NY" },
            })
          ).status,
        ).toBe(200);
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
    },
  };
}

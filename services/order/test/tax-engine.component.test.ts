// The order service with a tax engine: it taxes shipped lines as the engine says, and when the engine
// does not answer in time each channel falls back as configured: to the rate table, to a refusal, or
// to "send it again later".
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Client } from "@connectrpc/connect";
import { Code } from "@connectrpc/connect";
import { ErrorInfoSchema } from "@retail/contracts/google/rpc/error_details_pb";
import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import { OrderStatus } from "@retail/contracts/retail/order/v1/order_pb";
import type { OrderService } from "@retail/contracts/retail/order/v1/order_service_pb";
import { rejection, uniqueName } from "@retail/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Mesh, startMesh } from "./harness.js";
import { webOrder } from "./web-order.js";

let mesh: Mesh;
let client: Client<typeof OrderService>;
let engine: Server;
let mode: "answer" | "hang" | "fail" = "answer";

beforeAll(async () => {
  // A stand-in TaxJar: 1.23 of tax on every line it is asked about, or no answer, or a failure.
  engine = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => {
      body += chunk;
    });
    request.on("end", () => {
      if (mode === "hang") return;
      if (mode === "fail") return void response.writeHead(503).end();
      const { line_items } = JSON.parse(body) as { line_items: Array<{ id: string }> };
      const answer = {
        tax: { breakdown: { line_items: line_items.map((l) => ({ id: l.id, tax_collectable: 1.23 })) } },
      };
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => engine.listen(0, "127.0.0.1", resolve));
  mesh = await startMesh("tax_engine");
  ({ client } = await mesh.startOrder({
    TAX_ENGINE_URL: `http://127.0.0.1:${(engine.address() as AddressInfo).port}`,
    TAX_ENGINE_TIMEOUT_MS: "300",
    TAX_ENGINE_FALLBACK: JSON.stringify({
      MARKETPLACE: "refuse",
      APP: "defer",
      B2B: "hold",
      "*": "rate_table",
    }),
  }));
}, 120_000);
afterAll(async () => {
  await mesh?.stopAll();
  engine?.closeAllConnections();
  engine?.close();
}, 60_000);

async function order(channel = Channel.WEB) {
  const sku = uniqueName("ENG");
  await mesh.receive(sku, "DC-1", 5);
  return client.submitOrder(webOrder(sku, { channel }));
}

describe("a tax engine before the rate table", () => {
  it("taxes shipped lines as the engine answers", async () => {
    mode = "answer";
    const { order: taxed } = await order();
    expect(taxed?.taxTotal?.minorUnits).toBe(123n);
  });

  it("falls back to the rate table where the channel says so when the engine fails or is late", async () => {
    mode = "fail";
    const { order: failed } = await order();
    expect(failed?.status).toBe(OrderStatus.ACCEPTED);
    expect(failed?.taxTotal?.minorUnits).toBe(177n); // New York's 8.875 % of 19.99
    mode = "hang";
    const started = Date.now();
    const { order: late } = await order();
    expect(late?.taxTotal?.minorUnits).toBe(177n);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("refuses or defers where the channel says so", async () => {
    mode = "hang";
    const refused = await rejection(order(Channel.MARKETPLACE));
    expect(refused.code).toBe(Code.FailedPrecondition);
    expect(refused.findDetails(ErrorInfoSchema)[0]?.reason).toBe("TAX_UNDETERMINED");
    mode = "fail";
    const deferred = await rejection(order(Channel.APP));
    expect(deferred.code).toBe(Code.Unavailable);
    expect(deferred.findDetails(ErrorInfoSchema)[0]?.reason).toBe("TAX_ENGINE_UNAVAILABLE");
  });

  it("holds an order for review where the channel says so, and accepts it once a person releases it", async () => {
    mode = "fail";
    const sku = uniqueName("ENG");
    await mesh.receive(sku, "DC-1", 5);
    const { order: held } = await client.submitOrder(webOrder(sku, { channel: Channel.B2B }));
    expect(held?.status).toBe(OrderStatus.PENDING);
    expect(held?.taxHoldReason).toContain("the tax engine taxjar answered HTTP 503");
    expect(held?.taxTotal?.minorUnits).toBe(177n); // provisional, from the rate table
    const { position } = await mesh.inventory.getStockPosition({ sku, locationId: "DC-1" });
    expect(position?.reserved).toBe(0n); // nothing is held for an order under review

    const orderId = held?.orderId ?? "";
    const { order: released } = await client.releaseTaxHold({
      requestId: uniqueName("rel"),
      orderId,
      note: "checked: 8.875 % is right",
    });
    expect(released).toMatchObject({ status: OrderStatus.ACCEPTED, taxHoldReason: "" });
    const after = await mesh.inventory.getStockPosition({ sku, locationId: "DC-1" });
    expect(after.position?.reserved).toBe(1n);
    const again = await rejection(client.releaseTaxHold({ requestId: uniqueName("rel"), orderId, note: "" }));
    expect(again.findDetails(ErrorInfoSchema)[0]?.reason).toBe("NOT_HELD_FOR_TAX");
  });
});

import { once } from "node:events";
import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import { ReservationStatus } from "@retail/contracts/retail/inventory/v1/inventory_pb";
import { FulfillmentType, OrderStatus } from "@retail/contracts/retail/order/v1/order_pb";
import { startTcpProxy, uniqueName, until } from "@retail/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { orderIdOf } from "../src/app/submit-order.js";
import { type Mesh, startMesh } from "./harness.js";

let mesh: Mesh;

beforeAll(async () => {
  mesh = await startMesh("crash");
}, 120_000);
afterAll(() => mesh?.stopAll(), 60_000);

describe("a crash in the middle of the acceptance saga", () => {
  it("resumes after the order service is killed between reservation and acceptance, holding the stock once", async () => {
    const sku = uniqueName("SKU");
    await mesh.receive(sku, "DC-1", 5);
    const inventoryUrl = new URL(mesh.env.INVENTORY_URL ?? "");
    // The order service reaches inventory through a proxy that lets the reservation through but
    // holds back inventory's answer: the process is killed while it waits for it.
    const proxy = await startTcpProxy({ host: "127.0.0.1", port: Number(inventoryUrl.port) });
    const sagaEnv = { PENDING_GRACE_MS: "500", SWEEP_MS: "200", PEER_TIMEOUT_MS: "30000" };
    const first = await mesh.startOrderProcess({
      ...sagaEnv,
      INVENTORY_URL: `http://127.0.0.1:${proxy.port}`,
    });
    proxy.holdResponses();

    const channelOrderId = uniqueName("co");
    const submitted = first.client
      .submitOrder({
        requestId: uniqueName("r"),
        channel: Channel.WEB,
        channelId: "web",
        channelOrderId,
        currencyCode: "USD",
        customer: {
          sourceSystem: "shopify-web",
          sourceId: uniqueName("acct"),
          email: `${uniqueName("c")}@example.com`,
        },
        shipTo: { lines: ["1 Main St"], administrativeArea: "NY", regionCode: "US", postalCode: "10001" },
        lines: [
          {
            lineId: "1",
            sku,
            quantity: 2n,
            unitPrice: { currencyCode: "USD", minorUnits: 1500n },
            fulfillmentType: FulfillmentType.SHIP,
          },
        ],
      })
      .then(
        () => "answered",
        () => "failed",
      );
    const available = async () =>
      (await mesh.inventory.getAvailability({ sku, locationId: "DC-1" })).availability[0]?.available;
    await until(async () => expect(await available()).toBe(3n), { timeout: 20_000 });
    first.child.kill("SIGKILL");
    await once(first.child, "exit");
    expect(await submitted).toBe("failed");
    await proxy.close();

    // A new instance finds the pending saga and finishes it with the same reservation.
    const second = await mesh.startOrderProcess(sagaEnv);
    const orderId = orderIdOf(Channel.WEB, "web", channelOrderId);
    const order = await until(
      async () => {
        const { order } = await second.client.getOrder({ orderId });
        expect(order?.status).toBe(OrderStatus.ACCEPTED);
        return order;
      },
      { timeout: 20_000, interval: 200 },
    );
    expect(order?.reservationIds).toHaveLength(1);
    const { reservation } = await mesh.inventory.getReservation({
      reservationId: order?.reservationIds[0] ?? "",
    });
    expect(reservation).toMatchObject({ orderId, status: ReservationStatus.ACTIVE });
    expect(await available()).toBe(3n);
  }, 90_000);
});

// What an accepted order does to stock over its life: its holds outlast the acceptance ttl, its
// shipments leave the ledger, and its returns come back in, whatever other orders call theirs.
import { create } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import {
  FulfillmentPromise,
  MovementType,
  ReservationStatus,
} from "@retail/contracts/retail/inventory/v1/inventory_pb";
import { OrderStatus, ReturnCondition } from "@retail/contracts/retail/order/v1/order_pb";
import {
  type CancelOrderRequest,
  CancelOrderRequestSchema,
  type OrderService,
} from "@retail/contracts/retail/order/v1/order_service_pb";
import { requestOf } from "@retail/platform/store";
import { uniqueName, until } from "@retail/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cancelOrder } from "../src/app/cancel-order.js";
import { orderIdOf } from "../src/app/submit-order.js";
import type { RunningOrder } from "../src/compose.js";
import { type Mesh, startMesh } from "./harness.js";
import { storeLine, usd, webOrder } from "./web-order.js";

let mesh: Mesh;
let client: Client<typeof OrderService>;
let running: RunningOrder;

beforeAll(async () => {
  mesh = await startMesh("holds");
  // Acceptance holds stock for a second only: anything that still holds later was confirmed.
  ({ client, running } = await mesh.startOrder({ PENDING_HOLD_MS: "1000" }));
}, 120_000);
afterAll(() => mesh?.stopAll(), 60_000);

async function position(sku: string, locationId = "DC-1") {
  const { position } = await mesh.inventory.getStockPosition({ sku, locationId });
  return { onHand: position?.onHand, reserved: position?.reserved, damaged: position?.damaged };
}

async function shipAll(orderId: string, quantity: bigint) {
  await client.recordShipment({
    requestId: uniqueName("s"),
    orderId,
    shipment: {
      shipmentId: uniqueName("S"),
      carrier: "UPS",
      trackingNumber: "T",
      lines: [{ lineId: "1", quantity }],
    },
  });
}

/** An order of one line held at ST-1, while ST-2 has the stock to take it over. */
async function storeOrder() {
  const sku = uniqueName("MOVE");
  await mesh.receive(sku, "ST-1", 2);
  await mesh.receive(sku, "ST-2", 4);
  const { order } = await client.submitOrder(
    webOrder(sku, {
      lines: [storeLine(sku, 2n, "ST-1")],
    }),
  );
  expect(order?.status).toBe(OrderStatus.ACCEPTED);
  const repick = create(CancelOrderRequestSchema, {
    requestId: uniqueName("repick"),
    orderId: order?.orderId ?? "",
    lines: [{ lineId: "1", quantity: 2n }],
    reason: "not found on the shelf",
    resource: true,
  });
  return { sku, repick };
}

/**
 * The first attempt of a re-sourcing cancel, run in this process: its moves stop after releasing the
 * old hold, at `interrupted` (as a caller's timeout or a crash leaves it, the retry already under way).
 */
function firstAttempt(repick: CancelOrderRequest, interrupted: () => Promise<void>) {
  const stock = running.deps.stock;
  return cancelOrder(
    {
      ...running.deps,
      stock: {
        ...stock,
        async move(requestId, order, line, hold, to) {
          await stock.move(requestId, order, line, hold, undefined);
          await interrupted();
          return stock.move(requestId, order, line, hold, to);
        },
      },
    },
    {
      request: requestOf(CancelOrderRequestSchema, repick),
      orderId: repick.orderId,
      lines: repick.lines,
      reason: repick.reason,
      resource: true,
    },
  );
}

/** Releases a reservation, as the placing call does when its placing was cut short. */
async function released(reservationId: string) {
  await mesh.inventory.releaseReservation({
    requestId: uniqueName("release"),
    reservationId,
    reason: "left pending by a crash",
  });
}

/** Waits until inventory's sweep has expired a reservation (its ttl of a second passed). */
async function expired(reservationId: string) {
  await until(
    async () => {
      const { reservation } = await mesh.inventory.getReservation({ reservationId });
      expect(reservation?.status).toBe(ReservationStatus.EXPIRED);
    },
    { timeout: 15_000, interval: 200 },
  );
}

describe("stock under accepted orders", () => {
  it("moves a line once when a re-sourcing cancel is retried while its first attempt, having released the old hold, is still moving it", async () => {
    const { sku, repick } = await storeOrder();
    let released!: () => void;
    const releasedOld = new Promise<void>((resolve) => {
      released = resolve;
    });
    let resume!: () => void;
    const first = firstAttempt(repick, () => {
      released();
      return new Promise<void>((resolve) => {
        resume = resolve;
      });
    });
    await releasedOld;
    // The caller timed out and asks again while the first attempt waits between its release and move.
    const { order: retried } = await client.cancelOrder(repick);
    resume();
    const moved = await first;
    for (const order of [retried, moved])
      expect(order?.lines[0]).toMatchObject({ fulfillmentLocationId: "ST-2", cancelledQuantity: 0n });
    await until(async () => {
      expect(await position(sku, "ST-1")).toMatchObject({ onHand: 2n, reserved: 0n });
      expect(await position(sku, "ST-2")).toMatchObject({ onHand: 4n, reserved: 2n });
    });
    // Still so once the order's events have all been seen by inventory.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await position(sku, "ST-2")).toMatchObject({ reserved: 2n });
  });

  it("moves a line when a re-sourcing cancel is retried after its first attempt released the old hold and died", async () => {
    const { sku, repick } = await storeOrder();
    const died = new Error("the process died here");
    await expect(firstAttempt(repick, () => Promise.reject(died))).rejects.toBe(died);
    const { order } = await client.cancelOrder(repick);
    expect(order?.lines[0]).toMatchObject({ fulfillmentLocationId: "ST-2", cancelledQuantity: 0n });
    await until(async () => {
      expect(await position(sku, "ST-1")).toMatchObject({ reserved: 0n });
      expect(await position(sku, "ST-2")).toMatchObject({ reserved: 2n });
    });
  });

  // What a placing cut short leaves under the very request id the order's acceptance uses: released
  // (the placing call let it go) or expired (inventory's sweep took it, left pending by a crash, or its
  // ttl passed while the acceptance waited).
  it.each([
    ["released", (reservationId: string) => released(reservationId)],
    ["expired", (reservationId: string) => expired(reservationId)],
  ])("reserves again when the reservation its request placed comes back %s", async (_, lapse) => {
    const sku = uniqueName("LAPSED");
    await mesh.receive(sku, "DC-1", 3);
    const submit = webOrder(sku);
    const orderId = orderIdOf(Channel.WEB, "web", String(submit.channelOrderId));
    const { reservation: lapsed } = await mesh.inventory.reserveStock({
      requestId: `order:${orderId}:reserve:${FulfillmentPromise.SHIP_FROM_DC}`,
      orderId,
      lines: [{ lineId: "1", sku, quantity: 1n, locationId: "" }],
      channel: Channel.WEB,
      channelId: "web",
      promise: FulfillmentPromise.SHIP_FROM_DC,
      // What the order asks for while it is being accepted (PENDING_HOLD_MS above).
      ttl: { seconds: 1n },
    });
    await lapse(lapsed?.reservationId ?? "");
    const { order } = await client.submitOrder(submit);
    expect(order?.status, order?.rejectionReasons.join("; ")).toBe(OrderStatus.ACCEPTED);
    expect(order?.reservationIds).not.toContain(lapsed?.reservationId);
    expect(await position(sku)).toMatchObject({ onHand: 3n, reserved: 1n });
  });

  it("moves a line when the new hold its re-sourcing request placed comes back expired", async () => {
    const { sku, repick } = await storeOrder();
    const order = (await client.getOrder({ orderId: repick.orderId })).order;
    // An earlier attempt of this very request placed the new hold at ST-2, and it lapsed before the
    // attempt confirmed it (inventory's sweep took it).
    const { reservation: lapsed } = await mesh.inventory.reserveStock({
      requestId: `${repick.requestId}:resource:1`,
      orderId: repick.orderId,
      lines: [{ lineId: "1", sku, quantity: 2n, locationId: "ST-2" }],
      channel: order?.channel ?? Channel.WEB,
      ttl: { seconds: 1n },
    });
    await expired(lapsed?.reservationId ?? "");
    const { order: moved } = await client.cancelOrder(repick);
    expect(moved?.lines[0]).toMatchObject({ fulfillmentLocationId: "ST-2", cancelledQuantity: 0n });
    await until(async () => {
      expect(await position(sku, "ST-1")).toMatchObject({ reserved: 0n });
      expect(await position(sku, "ST-2")).toMatchObject({ reserved: 2n });
    });
  });

  it("keeps an accepted order's hold past the acceptance ttl, and its shipment lowers on hand", async () => {
    const sku = uniqueName("HOLD");
    await mesh.receive(sku, "DC-1", 5);
    const { order } = await client.submitOrder(
      webOrder(sku, { lines: [{ lineId: "1", sku, quantity: 2n, unitPrice: usd(1000n) }] }),
    );
    expect(order?.status).toBe(OrderStatus.ACCEPTED);
    const [reservationId = ""] = order?.reservationIds ?? [];
    const { reservation } = await mesh.inventory.getReservation({ reservationId });
    expect(reservation?.heldUntilFulfilled).toBe(true);
    expect(reservation?.expireTime).toBeUndefined();

    // Inventory sweeps every 500 ms; three seconds is three times the acceptance ttl.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect((await mesh.inventory.getReservation({ reservationId })).reservation?.status).toBe(
      ReservationStatus.ACTIVE,
    );
    expect(await position(sku)).toMatchObject({ onHand: 5n, reserved: 2n });

    await shipAll(order?.orderId ?? "", 2n);
    await until(async () => expect(await position(sku)).toMatchObject({ onHand: 3n, reserved: 0n }));
  });

  it("books two orders' returns that both call theirs R1, each once", async () => {
    const sku = uniqueName("RET");
    await mesh.receive(sku, "DC-1", 4);
    const orders: string[] = [];
    for (const condition of [ReturnCondition.RESTOCK, ReturnCondition.DAMAGED]) {
      const { order } = await client.submitOrder(
        webOrder(sku, { lines: [{ lineId: "1", sku, quantity: 1n, unitPrice: usd(500n) }] }),
      );
      const orderId = order?.orderId ?? "";
      orders.push(orderId);
      await shipAll(orderId, 1n);
      const ret = { returnId: "R1", locationId: "DC-1", lines: [{ lineId: "1", quantity: 1n, condition }] };
      await client.recordReturn({ requestId: uniqueName("r"), orderId, return: ret });
      // The same return reported again changes nothing.
      await client.recordReturn({ requestId: uniqueName("r"), orderId, return: ret }).catch(() => undefined);
    }
    await until(async () => expect(await position(sku)).toMatchObject({ onHand: 4n, damaged: 1n }));
    const { movements } = await mesh.inventory.listMovements({ sku, locationId: "DC-1" });
    const returns = movements.filter(
      (m) => m.type === MovementType.RETURN_TO_SELLABLE || m.type === MovementType.RETURN_TO_DAMAGED,
    );
    expect(returns.map((m) => m.movementId).sort()).toEqual(orders.map((id) => `return:${id}:R1:1`).sort());
    expect(returns.every((m) => m.sourceSystem === "order" && m.recordedBy === "order")).toBe(true);
  });
});

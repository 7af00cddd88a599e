// Holds under accepted orders, shipments no hold covers, and the provenance of ledger entries.
import { create } from "@bufbuild/protobuf";
import { durationFromMs, timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type Client, Code, ConnectError, createClient } from "@connectrpc/connect";
import { ErrorInfoSchema } from "@retail/contracts/google/rpc/error_details_pb";
import {
  ReservationConfirmedSchema,
  ReservationShortfallFlaggedSchema,
} from "@retail/contracts/retail/inventory/v1/inventory_events_pb";
import { MovementType, ReservationStatus } from "@retail/contracts/retail/inventory/v1/inventory_pb";
import { InventoryService } from "@retail/contracts/retail/inventory/v1/inventory_service_pb";
import {
  OrderPickedUpSchema,
  ShipmentDispatchedSchema,
} from "@retail/contracts/retail/order/v1/order_events_pb";
import { createServiceTransport } from "@retail/platform/rpc";
import { eventually } from "@retail/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unheldShipmentReason } from "../src/app/apply-order-fulfilment.js";
import type { RunningInventory } from "../src/compose.js";
import {
  createHarness,
  type EventCapture,
  publishOrderEvent,
  registerLocations,
  stockHelpers,
} from "./harness.js";

const harness = createHarness("holds");
let client: Client<typeof InventoryService>;
let running: RunningInventory;
let capture: EventCapture;
let counter = 0;

beforeAll(async () => {
  ({ client, running } = await harness.start());
  capture = await harness.capture();
  await registerLocations(client, ["DC-1", "ST-1"]);
});
afterAll(() => harness.stopAll());

const { receive, stock } = stockHelpers(() => client);

function reserve(orderId: string, sku: string, quantity: number, ttlMs: number) {
  return client.reserveStock({
    requestId: `req-${++counter}`,
    orderId,
    lines: [{ lineId: "1", sku, quantity: BigInt(quantity), locationId: "DC-1" }],
    ttl: durationFromMs(ttlMs),
  });
}

function shipped(orderId: string, sku: string, quantity: bigint, fromLocationId = "") {
  return create(ShipmentDispatchedSchema, {
    orderId,
    shipment: { shipmentId: `s-${++counter}`, lines: [{ lineId: "1", quantity }], fromLocationId },
    lines: [{ lineId: "1", sku, quantity }],
  });
}

describe("holds under accepted orders", () => {
  it("keeps a confirmed reservation past its ttl until the line ships, then commits it", async () => {
    await receive("HOLD-KEEP", "DC-1", 5);
    const { reservation } = await reserve("order-keep", "HOLD-KEEP", 2, 300);
    const id = reservation?.reservationId ?? "";
    const confirmed = await client.confirmReservation({ requestId: "c-1", reservationId: id });
    expect(confirmed.reservation?.heldUntilFulfilled).toBe(true);
    expect(confirmed.reservation?.expireTime).toBeUndefined();
    const again = await client.confirmReservation({ requestId: "c-2", reservationId: id });
    expect(again.reservation?.heldUntilFulfilled).toBe(true);
    await eventually(() => capture.of(ReservationConfirmedSchema).find((e) => e.reservationId === id));
    expect(capture.of(ReservationConfirmedSchema).filter((e) => e.reservationId === id)).toHaveLength(1);

    // Several sweeps (every 200 ms) pass the 300 ms ttl: the hold stays.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const held = await client.getReservation({ reservationId: id });
    expect(held.reservation?.status).toBe(ReservationStatus.ACTIVE);
    expect(await stock("HOLD-KEEP")).toEqual({ onHand: 5, reserved: 2, available: 3 });

    await publishOrderEvent(
      harness.exchange,
      "order.shipment_dispatched",
      ShipmentDispatchedSchema,
      shipped("order-keep", "HOLD-KEEP", 2n),
    );
    await eventually(async () => (await stock("HOLD-KEEP")).onHand === 3);
    expect(await stock("HOLD-KEEP")).toEqual({ onHand: 3, reserved: 0, available: 3 });
    // The ledger moves first, then the reservation records the commit.
    await eventually(
      async () =>
        (await client.getReservation({ reservationId: id })).reservation?.status ===
        ReservationStatus.COMMITTED,
    );
  });

  it("refuses to confirm a reservation that expired, naming its status", async () => {
    await receive("HOLD-LATE", "DC-1", 5);
    const { reservation } = await reserve("order-late", "HOLD-LATE", 1, 100);
    const id = reservation?.reservationId ?? "";
    await eventually(
      async () =>
        (await client.getReservation({ reservationId: id })).reservation?.status ===
        ReservationStatus.EXPIRED,
    );
    const refused = await client
      .confirmReservation({ requestId: "c-late", reservationId: id })
      .catch((e: unknown) => ConnectError.from(e));
    expect(refused).toBeInstanceOf(ConnectError);
    expect((refused as ConnectError).code).toBe(Code.FailedPrecondition);
    expect((refused as ConnectError).findDetails(ErrorInfoSchema)[0]?.reason).toBe("RESERVATION_CLOSED");
  });

  it("refuses a ttl outside the configured bounds, naming the field", async () => {
    const refused = await reserve("order-ttl", "HOLD-TTL", 1, 2 * 24 * 3600_000).catch((e: unknown) =>
      ConnectError.from(e),
    );
    expect((refused as ConnectError).code).toBe(Code.InvalidArgument);
    expect((refused as ConnectError).rawMessage).toContain("ttl");
  });

  it("ships a line whose hold lapsed out of the ledger, once however often the event comes, and flags the shortfall", async () => {
    await receive("HOLD-LAPSED", "DC-1", 3);
    const { reservation } = await reserve("order-lapsed", "HOLD-LAPSED", 2, 100);
    const id = reservation?.reservationId ?? "";
    await eventually(
      async () =>
        (await client.getReservation({ reservationId: id })).reservation?.status ===
        ReservationStatus.EXPIRED,
    );
    expect(await stock("HOLD-LAPSED")).toEqual({ onHand: 3, reserved: 0, available: 3 });
    // Meanwhile another order takes the rest: the late shipment leaves the position short.
    await reserve("order-other", "HOLD-LAPSED", 3, 60_000);

    const event = shipped("order-lapsed", "HOLD-LAPSED", 2n);
    const eventId = await publishOrderEvent(
      harness.exchange,
      "order.shipment_dispatched",
      ShipmentDispatchedSchema,
      event,
    );
    await eventually(async () => (await stock("HOLD-LAPSED")).onHand === 1);
    await publishOrderEvent(
      harness.exchange,
      "order.shipment_dispatched",
      ShipmentDispatchedSchema,
      event,
      eventId,
    );
    const flagged = await eventually(() =>
      capture.of(ReservationShortfallFlaggedSchema).find((e) => e.sku === "HOLD-LAPSED"),
    );
    expect(flagged.shortfall).toBe(2n);
    // The ledger says where and why; the redelivery moved nothing more.
    const { movements } = await client.listMovements({ sku: "HOLD-LAPSED", locationId: "DC-1" });
    const shipments = movements.filter((m) => m.type === MovementType.SHIPMENT);
    expect(shipments).toHaveLength(1);
    expect(shipments[0]).toMatchObject({
      quantity: 2n,
      reason: unheldShipmentReason,
      sourceSystem: "order",
      recordedBy: "order",
    });
    expect(await stock("HOLD-LAPSED")).toEqual({ onHand: 1, reserved: 3, available: 0 });
  });

  it("moves a pickup that no hold covers out of the store it was collected at", async () => {
    await receive("HOLD-PICKUP", "ST-1", 4);
    await publishOrderEvent(
      harness.exchange,
      "order.order_picked_up",
      OrderPickedUpSchema,
      create(OrderPickedUpSchema, {
        orderId: "order-pickup",
        locationId: "ST-1",
        lines: [{ lineId: "1", sku: "HOLD-PICKUP", quantity: 1n }],
      }),
    );
    await eventually(async () => (await stock("HOLD-PICKUP", "ST-1")).onHand === 3);
  });
});

describe("provenance of ledger entries", () => {
  it("keeps the source system, the time it happened and the caller on every entry", async () => {
    const wms = createClient(
      InventoryService,
      createServiceTransport({ baseUrl: `http://127.0.0.1:${running.port}`, caller: "wms-bridge" }),
    );
    const occurTime = new Date("2026-11-20T08:15:00Z");
    await wms.recordMovement({
      movement: {
        movementId: "prov-1",
        type: MovementType.GOODS_RECEIPT,
        sku: "PROV-1",
        locationId: "DC-1",
        quantity: 7n,
        sourceSystem: "manhattan-wms",
        occurTime: timestampFromDate(occurTime),
      },
    });
    await wms.recordMovement({
      movement: {
        movementId: "prov-2",
        type: MovementType.DAMAGE,
        sku: "PROV-1",
        locationId: "DC-1",
        quantity: 1n,
        sourceSystem: "store-app",
      },
    });
    const first = await client.listMovements({ sku: "PROV-1", locationId: "DC-1", pageSize: 1 });
    expect(first.movements).toHaveLength(1);
    const [receipt] = first.movements;
    expect(receipt).toMatchObject({
      movementId: "prov-1",
      sourceSystem: "manhattan-wms",
      recordedBy: "wms-bridge",
    });
    expect(receipt?.occurTime && timestampDate(receipt.occurTime).toISOString()).toBe(
      occurTime.toISOString(),
    );
    expect(receipt?.recordTime).toBeDefined();
    const second = await client.listMovements({
      sku: "PROV-1",
      locationId: "DC-1",
      pageToken: first.nextPageToken,
    });
    expect(second.movements.map((m) => [m.movementId, m.sourceSystem, m.recordedBy])).toEqual([
      ["prov-2", "store-app", "wms-bridge"],
    ]);
    expect(second.nextPageToken).toBe("");
  });
});

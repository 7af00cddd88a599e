import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type Client, Code, type ConnectError } from "@connectrpc/connect";
import { BadRequestSchema, ErrorInfoSchema } from "@retail/contracts/google/rpc/error_details_pb";
import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import {
  ChargebackOpenedSchema,
  ChargebackReversedSchema,
  OrderAcceptedSchema,
  OrderPickedUpSchema,
  OrderReceivedSchema,
  RefundIssuedSchema,
  ShipmentDispatchedSchema,
} from "@retail/contracts/retail/order/v1/order_events_pb";
import {
  FulfillmentType,
  LineStatus,
  OrderStatus,
  PaymentEventType,
  PaymentOutcome,
  ReturnCondition,
} from "@retail/contracts/retail/order/v1/order_pb";
import type { OrderService } from "@retail/contracts/retail/order/v1/order_service_pb";
import { rejection, uniqueName, until } from "@retail/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningOrder } from "../src/compose.js";
import { type EventCapture, type Mesh, startMesh } from "./harness.js";
import { shipTo, storeLine, usd, webOrder } from "./web-order.js";

let mesh: Mesh;
let client: Client<typeof OrderService>;
let running: RunningOrder;
let capture: EventCapture;

beforeAll(async () => {
  mesh = await startMesh("orders");
  ({ client, running } = await mesh.startOrder({ SWEEP_MS: "300" }));
  capture = await mesh.capture();
}, 120_000);
afterAll(() => mesh?.stopAll(), 60_000);

const reason = (e: ConnectError) => e.findDetails(ErrorInfoSchema)[0]?.reason;
const available = async (sku: string, locationId: string) =>
  (await mesh.inventory.getAvailability({ sku, locationId })).availability[0]?.available ?? 0n;

describe("order lifecycle across customer-identity and inventory", () => {
  it("accepts a web order: customer resolved, prices and tax exact, stock reserved, then shipped and committed", async () => {
    const sku = uniqueName("SKU");
    await mesh.receive(sku, "DC-1", 10);
    const { order } = await client.submitOrder(
      webOrder(sku, {
        lines: [
          { lineId: "1", sku, quantity: 1n, unitPrice: usd(1999n), fulfillmentType: FulfillmentType.SHIP },
          {
            lineId: "2",
            sku,
            quantity: 3n,
            unitPrice: usd(333n),
            discount: usd(99n),
            fulfillmentType: FulfillmentType.SHIP,
          },
        ],
        orderDiscount: usd(500n),
        shippingCharge: usd(495n),
      }),
    );
    expect(order?.status).toBe(OrderStatus.ACCEPTED);
    expect(order?.customerId).not.toBe("");
    expect(order?.lines.map((l) => l.discount?.minorUnits)).toEqual([345n, 254n]);
    expect(order?.lines.map((l) => l.tax?.minorUnits)).toEqual([147n, 66n]); // 8.875% of 1654 and of 745
    expect(order?.grandTotal?.minorUnits).toBe(1654n + 147n + 745n + 66n + 495n);
    expect(order?.reservationIds).toHaveLength(1);
    await until(async () => expect(await available(sku, "DC-1")).toBe(6n));

    const shipped = await client.recordShipment({
      requestId: uniqueName("s"),
      orderId: order?.orderId ?? "",
      shipment: {
        shipmentId: "S1",
        carrier: "UPS",
        trackingNumber: "1Z1",
        fromLocationId: "DC-1",
        lines: [
          { lineId: "1", quantity: 1n },
          { lineId: "2", quantity: 3n },
        ],
      },
    });
    expect(shipped.order?.status).toBe(OrderStatus.FULFILLED);
    await until(async () => {
      const { reservation } = await mesh.inventory.getReservation({
        reservationId: order?.reservationIds[0] ?? "",
      });
      expect(reservation?.lines.map((l) => l.committedQuantity)).toEqual([1n, 3n]);
    });
    await until(() => {
      const id = order?.orderId;
      expect(capture.of(OrderReceivedSchema).filter((e) => e.order?.orderId === id)).toHaveLength(1);
      expect(capture.of(OrderAcceptedSchema).filter((e) => e.order?.orderId === id)).toHaveLength(1);
      const dispatched = capture.of(ShipmentDispatchedSchema).find((e) => e.orderId === id);
      expect(dispatched?.lines.map((l) => [l.netAmount?.minorUnits, l.tax?.minorUnits])).toEqual([
        [1654n, 147n],
        [745n, 66n],
      ]);
    });
  });

  it("returns the same order for a repeated channel order id", async () => {
    const sku = uniqueName("SKU");
    await mesh.receive(sku, "DC-1", 5);
    const request = webOrder(sku);
    const [first, second] = await Promise.all([
      client.submitOrder(request),
      client.submitOrder({ ...request, requestId: uniqueName("again") }),
    ]);
    expect(second.order?.orderId).toBe(first.order?.orderId);
    const third = await client.submitOrder(request);
    expect(third.order?.version).toBe(
      first.order?.version === second.order?.version ? first.order?.version : third.order?.version,
    );
    await until(async () => expect(await available(sku, "DC-1")).toBe(4n));
    await until(() =>
      expect(
        capture.of(OrderReceivedSchema).filter((e) => e.order?.orderId === first.order?.orderId),
      ).toHaveLength(1),
    );
  });

  it("rejects an order when stock is short, naming the SKU, and holds nothing", async () => {
    const sku = uniqueName("SKU");
    await mesh.receive(sku, "DC-1", 1);
    const { order } = await client.submitOrder(
      webOrder(sku, { lines: [{ lineId: "1", sku, quantity: 2n, unitPrice: usd(500n) }] }),
    );
    expect(order?.status).toBe(OrderStatus.REJECTED);
    // Built from inventory's typed shortages, not its message text.
    expect(order?.rejectionReasons).toEqual([
      `insufficient stock: ${sku} at any location requested 2, available 1`,
    ]);
    expect(await available(sku, "DC-1")).toBe(1n);
  });

  it("rejects an order whose customer details are invalid", async () => {
    const sku = uniqueName("SKU");
    await mesh.receive(sku, "DC-1", 1);
    const { order } = await client.submitOrder(
      webOrder(sku, {
        customer: { sourceSystem: "shopify-web", sourceId: uniqueName("acct"), email: "not-an-email" },
      }),
    );
    expect(order?.status).toBe(OrderStatus.REJECTED);
    expect(order?.rejectionReasons[0]).toMatch(/customer invalid: customer.email/);
  });

  it("takes a buy-online-pick-up-in-store order through ready and collected", async () => {
    const sku = uniqueName("SKU");
    await mesh.receive(sku, "ST-1", 3);
    const { order } = await client.submitOrder(
      webOrder(sku, {
        shipTo: undefined,
        lines: [
          {
            lineId: "1",
            sku,
            quantity: 2n,
            unitPrice: usd(1000n),
            fulfillmentType: FulfillmentType.PICKUP_IN_STORE,
            fulfillmentLocationId: "ST-1",
          },
        ],
      }),
    );
    expect(order?.status).toBe(OrderStatus.ACCEPTED);
    const orderId = order?.orderId ?? "";
    const early = await rejection(client.recordPickup({ requestId: uniqueName("p"), orderId }));
    expect(reason(early)).toBe("LINE_NOT_READY");
    const readyId = uniqueName("r");
    const ready = await client.markReadyForPickup({ requestId: readyId, orderId });
    expect(ready.order?.lines[0]?.status).toBe(LineStatus.READY_FOR_PICKUP);
    // A retry without a collect-by time is the same request (the deadline the service chose is not
    // part of what was asked), not a request id reused for another payload.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const retried = await client.markReadyForPickup({ requestId: readyId, orderId });
    expect(retried.order?.collectByTime).toEqual(ready.order?.collectByTime);
    expect(retried.order?.version).toBe(ready.order?.version);
    const collected = await client.recordPickup({ requestId: uniqueName("p"), orderId });
    expect(collected.order?.status).toBe(OrderStatus.FULFILLED);
    expect(collected.order?.lines[0]?.status).toBe(LineStatus.PICKED_UP);
    await until(() => {
      const picked = capture.of(OrderPickedUpSchema).find((e) => e.orderId === orderId);
      expect(picked?.lines[0]?.netAmount?.minorUnits).toBe(2000n);
      expect(picked?.lines[0]?.tax?.minorUnits).toBe(178n); // 8.875% of 2000 = 177.5, half away from zero
    });
  });

  it("cancels a pickup not collected by its deadline and releases its stock", async () => {
    const sku = uniqueName("SKU");
    await mesh.receive(sku, "ST-2", 2);
    const { order } = await client.submitOrder(
      webOrder(sku, {
        shipTo: undefined,
        lines: [
          {
            lineId: "1",
            sku,
            quantity: 2n,
            unitPrice: usd(1000n),
            fulfillmentType: FulfillmentType.PICKUP_IN_STORE,
            fulfillmentLocationId: "ST-2",
          },
        ],
      }),
    );
    const orderId = order?.orderId ?? "";
    await until(async () => expect(await available(sku, "ST-2")).toBe(0n));
    await client.markReadyForPickup({
      requestId: uniqueName("r"),
      orderId,
      collectByTime: timestampFromDate(new Date(Date.now() + 1_500)),
    });
    await until(
      async () => {
        const { order: after } = await client.getOrder({ orderId });
        expect(after?.status).toBe(OrderStatus.CANCELLED);
        expect(after?.lines[0]?.cancelledQuantity).toBe(2n);
      },
      { timeout: 15_000, interval: 200 },
    );
    await until(async () => expect(await available(sku, "ST-2")).toBe(2n), { timeout: 15_000 });
  });

  it("finds an order by its channel's own order id, only on that channel, or by a payment's reference", async () => {
    const sku = uniqueName("SKU");
    await mesh.receive(sku, "DC-1", 1);
    const { order } = await client.submitOrder(webOrder(sku));
    if (!order) throw new Error("no order");
    const found = await client.lookupOrder({
      channel: order.channel,
      channelId: order.channelId,
      channelOrderId: order.channelOrderId,
    });
    expect(found.order?.orderId).toBe(order.orderId);
    const elsewhere = await rejection(
      client.lookupOrder({ channel: Channel.MARKETPLACE, channelOrderId: order.channelOrderId }),
    );
    expect([elsewhere.code, reason(elsewhere)]).toEqual([Code.NotFound, "ORDER_NOT_FOUND"]);
    // By a payment processor's reference of one of its payments (a dispute names only the charge).
    const chargeId = uniqueName("ch");
    await client.recordPaymentEvent({
      orderId: order.orderId,
      paymentEvent: {
        paymentEventId: uniqueName("pe"),
        type: PaymentEventType.CAPTURE,
        outcome: PaymentOutcome.APPROVED,
        amount: usd(100n),
        provider: "stripe",
        providerReference: chargeId,
      },
    });
    expect((await client.lookupOrder({ paymentReference: chargeId })).order?.orderId).toBe(order.orderId);
    const unknownCharge = await rejection(client.lookupOrder({ paymentReference: uniqueName("ch") }));
    expect([unknownCharge.code, reason(unknownCharge)]).toEqual([Code.NotFound, "ORDER_NOT_FOUND"]);
    const both = await rejection(client.lookupOrder({ paymentReference: chargeId, channel: Channel.WEB }));
    expect(both.findDetails(BadRequestSchema)[0]?.fieldViolations.map((v) => v.field)).toEqual([
      "payment_reference",
    ]);
    const invalid = await rejection(client.lookupOrder({ channelOrderId: "" }));
    expect(invalid.findDetails(BadRequestSchema)[0]?.fieldViolations.map((v) => v.field)).toEqual([
      "channel",
      "channel_order_id",
    ]);
  });

  it("accepts a till sale without holding stock and books its lines collected at the store, once", async () => {
    const sku = uniqueName("SKU");
    // The shelf had one more than the ledger knew: the sale stands, and on hand goes below zero.
    await mesh.receive(sku, "ST-1", 1);
    const n = uniqueName("T");
    const sale = {
      requestId: `pos:${n}`,
      channel: Channel.POS,
      channelId: "pos",
      channelOrderId: `ST-1:${n}`,
      currencyCode: "USD",
      customer: { sourceSystem: "pos", sourceId: "walk-in-ST-1", givenName: "Walk-in", familyName: "ST-1" },
      lines: [
        {
          lineId: "1",
          sku,
          quantity: 2n,
          unitPrice: usd(1000n),
          chargedTax: usd(178n),
          fulfillmentType: FulfillmentType.CARRY_OUT,
          fulfillmentLocationId: "ST-1",
        },
      ],
    };
    const { order } = await client.submitOrder(sale);
    expect(order?.status).toBe(OrderStatus.FULFILLED);
    expect(order?.lines.map((l) => [l.status, l.shippedQuantity])).toEqual([[LineStatus.PICKED_UP, 2n]]);
    expect(order?.grandTotal?.minorUnits).toBe(2178n);
    expect(order?.reservationIds).toEqual([]);
    expect((await client.submitOrder(sale)).order?.version).toBe(order?.version);
    await until(() => {
      const picked = capture.of(OrderPickedUpSchema).filter((e) => e.orderId === order?.orderId);
      expect(picked.map((e) => [e.locationId, e.lines.map((l) => l.quantity)])).toEqual([["ST-1", [2n]]]);
    });
    await until(async () => {
      const { position } = await mesh.inventory.getStockPosition({ sku, locationId: "ST-1" });
      expect(position?.onHand).toBe(-1n);
    });
    const web = await rejection(
      client.submitOrder({ ...sale, requestId: uniqueName("r"), channel: Channel.WEB, channelId: "web" }),
    );
    expect(web.findDetails(BadRequestSchema)[0]?.fieldViolations.map((v) => v.field)).toEqual([
      "lines[0].fulfillment_type",
    ]);
  });

  it("opens a chargeback against what was captured and not refunded", async () => {
    const sku = uniqueName("SKU");
    await mesh.receive(sku, "DC-1", 1);
    const { order } = await client.submitOrder(webOrder(sku));
    const orderId = order?.orderId ?? "";
    const total = order?.grandTotal?.minorUnits ?? 0n;
    const pay = (type: PaymentEventType, amount: bigint) =>
      client.recordPaymentEvent({
        orderId,
        paymentEvent: {
          paymentEventId: uniqueName("pe"),
          type,
          outcome: PaymentOutcome.APPROVED,
          amount: usd(amount),
          provider: "stripe",
        },
      });
    await pay(PaymentEventType.CAPTURE, total);
    await pay(PaymentEventType.REFUND, 500n);
    expect(reason(await rejection(pay(PaymentEventType.CHARGEBACK, total)))).toBe(
      "CHARGEBACK_EXCEEDS_CAPTURED",
    );
    const { order: disputed } = await pay(PaymentEventType.CHARGEBACK, total - 500n);
    expect(disputed?.chargebackTotal?.minorUnits).toBe(total - 500n);
    await until(() =>
      expect(capture.of(ChargebackOpenedSchema).some((e) => e.orderId === orderId)).toBe(true),
    );
    // A won dispute reverses it, never beyond what is charged back and not reversed.
    expect(reason(await rejection(pay(PaymentEventType.CHARGEBACK_REVERSAL, total)))).toBe(
      "REVERSAL_EXCEEDS_CHARGEBACKS",
    );
    const { order: won } = await pay(PaymentEventType.CHARGEBACK_REVERSAL, total - 500n);
    expect([won?.chargebackTotal?.minorUnits, won?.chargebackReversedTotal?.minorUnits]).toEqual([
      total - 500n,
      total - 500n,
    ]);
    expect(reason(await rejection(pay(PaymentEventType.CHARGEBACK_REVERSAL, 1n)))).toBe(
      "REVERSAL_EXCEEDS_CHARGEBACKS",
    );
    await until(() =>
      expect(capture.of(ChargebackReversedSchema).some((e) => e.orderId === orderId)).toBe(true),
    );
  });

  it("ships an order in two parts with partial captures that never exceed the order total", async () => {
    const sku = uniqueName("SKU");
    await mesh.receive(sku, "DC-1", 10);
    const { order } = await client.submitOrder(
      webOrder(sku, { lines: [{ lineId: "1", sku, quantity: 3n, unitPrice: usd(1000n) }] }),
    );
    const orderId = order?.orderId ?? "";
    const total = order?.grandTotal?.minorUnits ?? 0n; // 3000 + 266.25 -> 3266
    const ship = (id: string, quantity: bigint) =>
      client.recordShipment({
        requestId: uniqueName("s"),
        orderId,
        shipment: {
          shipmentId: id,
          carrier: "FedEx",
          trackingNumber: id,
          lines: [{ lineId: "1", quantity }],
        },
      });
    const capture1 = (id: string, amount: bigint) =>
      client.recordPaymentEvent({
        orderId,
        paymentEvent: {
          paymentEventId: id,
          type: PaymentEventType.CAPTURE,
          outcome: PaymentOutcome.APPROVED,
          amount: usd(amount),
          paymentMethod: "card",
          provider: "stripe",
        },
      });
    const first = await ship("S1", 2n);
    expect(first.order?.lines[0]?.status).toBe(LineStatus.PARTIALLY_SHIPPED);
    expect(first.order?.status).toBe(OrderStatus.PARTIALLY_FULFILLED);
    await capture1(uniqueName("ch"), 2000n);
    const second = await ship("S2", 1n);
    expect(second.order?.status).toBe(OrderStatus.FULFILLED);
    const done = await capture1(uniqueName("ch"), total - 2000n);
    expect(done.order?.capturedTotal?.minorUnits).toBe(total);
    const over = await rejection(capture1(uniqueName("ch"), 1n));
    expect(over.code).toBe(Code.FailedPrecondition);
    expect(reason(over)).toBe("CAPTURE_EXCEEDS_ORDER_TOTAL");
    const tooMuch = await rejection(ship("S3", 1n));
    expect(reason(tooMuch)).toBe("LINE_NOT_OPEN");
    await until(() => {
      const parts = capture
        .of(ShipmentDispatchedSchema)
        .filter((e) => e.orderId === orderId)
        .flatMap((e) => e.lines);
      expect(parts.map((l) => l.netAmount?.minorUnits)).toEqual([2000n, 1000n]);
      expect(parts.reduce((s, l) => s + (l.tax?.minorUnits ?? 0n), 0n)).toBe(order?.taxTotal?.minorUnits);
    });
  });

  it("re-sources a line a store could not pick from another store", async () => {
    const sku = uniqueName("SKU");
    await mesh.receive(sku, "ST-1", 1);
    await mesh.receive(sku, "ST-2", 4);
    const { order } = await client.submitOrder(
      webOrder(sku, {
        lines: [storeLine(sku, 1n, "ST-1")],
      }),
    );
    expect(order?.status).toBe(OrderStatus.ACCEPTED);
    const { order: moved } = await client.cancelOrder({
      requestId: uniqueName("c"),
      orderId: order?.orderId ?? "",
      lines: [{ lineId: "1", quantity: 1n }],
      reason: "not found on the shelf",
      resource: true,
    });
    expect(moved?.lines[0]).toMatchObject({
      fulfillmentLocationId: "ST-2",
      status: LineStatus.ACCEPTED,
      cancelledQuantity: 0n,
    });
    expect(moved?.reservationIds).toHaveLength(2);
    await until(async () => {
      expect(await available(sku, "ST-1")).toBe(1n);
      expect(await available(sku, "ST-2")).toBe(3n);
    });
  });

  it("refunds part of a captured order and refuses to refund more than was captured", async () => {
    const sku = uniqueName("SKU");
    await mesh.receive(sku, "DC-1", 5);
    const { order } = await client.submitOrder(
      webOrder(sku, {
        lines: [
          { lineId: "1", sku, quantity: 1n, unitPrice: usd(1000n) },
          { lineId: "2", sku, quantity: 1n, unitPrice: usd(3000n) },
        ],
      }),
    );
    const orderId = order?.orderId ?? "";
    const total = order?.grandTotal?.minorUnits ?? 0n;
    await client.recordPaymentEvent({
      orderId,
      paymentEvent: {
        paymentEventId: uniqueName("ch"),
        type: PaymentEventType.CAPTURE,
        outcome: PaymentOutcome.APPROVED,
        amount: usd(total),
        provider: "stripe",
      },
    });
    const refundId = uniqueName("re");
    const line1 = order?.lines[0]?.lineTotal?.minorUnits ?? 0n;
    const refund = {
      paymentEventId: refundId,
      type: PaymentEventType.REFUND,
      outcome: PaymentOutcome.APPROVED,
      amount: usd(line1),
      lineIds: ["1"],
      provider: "stripe",
    };
    const { order: refunded } = await client.recordPaymentEvent({ orderId, paymentEvent: refund });
    expect(refunded?.refundedTotal?.minorUnits).toBe(line1);
    const again = await client.recordPaymentEvent({ orderId, paymentEvent: refund });
    expect(again.order?.refundedTotal?.minorUnits).toBe(line1);
    const over = await rejection(
      client.recordPaymentEvent({
        orderId,
        paymentEvent: { ...refund, paymentEventId: uniqueName("re"), amount: usd(total) },
      }),
    );
    expect(reason(over)).toBe("REFUND_EXCEEDS_CAPTURED");
    await until(() => {
      const issued = capture.of(RefundIssuedSchema).filter((e) => e.orderId === orderId);
      expect(issued).toHaveLength(1);
      expect(issued[0]?.taxRefunded?.minorUnits).toBe(89n); // the line's tax, 8.875% of 1000 = 88.75
      expect(issued[0]?.lines[0]?.netAmount?.minorUnits).toBe(1000n);
    });
  });

  it("receives a return into damaged stock and says what is due back", async () => {
    const sku = uniqueName("SKU");
    await mesh.receive(sku, "DC-1", 3);
    const { order } = await client.submitOrder(
      webOrder(sku, { lines: [{ lineId: "1", sku, quantity: 2n, unitPrice: usd(1000n) }] }),
    );
    const orderId = order?.orderId ?? "";
    await client.recordShipment({
      requestId: uniqueName("s"),
      orderId,
      shipment: {
        shipmentId: "S1",
        carrier: "UPS",
        trackingNumber: "T",
        lines: [{ lineId: "1", quantity: 2n }],
      },
    });
    const tooMany = await rejection(
      client.recordReturn({
        requestId: uniqueName("r"),
        orderId,
        return: {
          returnId: uniqueName("ra"),
          locationId: "DC-1",
          lines: [{ lineId: "1", quantity: 3n, condition: ReturnCondition.DAMAGED }],
        },
      }),
    );
    expect(reason(tooMany)).toBe("RETURN_EXCEEDS_DELIVERED");
    const { order: returned } = await client.recordReturn({
      requestId: uniqueName("r"),
      orderId,
      return: {
        returnId: uniqueName("ra"),
        locationId: "DC-1",
        lines: [{ lineId: "1", quantity: 1n, condition: ReturnCondition.DAMAGED, reason: "cracked" }],
      },
    });
    expect(returned?.status).toBe(OrderStatus.PARTIALLY_RETURNED);
    expect(returned?.returns[0]?.refundAmount?.minorUnits).toBe(1000n + 89n);
    // Inventory books the return when it sees the order's OrderReturned event.
    await until(async () => {
      const { position } = await mesh.inventory.getStockPosition({ sku, locationId: "DC-1" });
      expect(position?.damaged).toBe(1n);
    });
  });

  it("rejects an accepted order when its payment is declined and releases its stock", async () => {
    const sku = uniqueName("SKU");
    await mesh.receive(sku, "DC-1", 2);
    const { order } = await client.submitOrder(
      webOrder(sku, { lines: [{ lineId: "1", sku, quantity: 2n, unitPrice: usd(800n) }] }),
    );
    await until(async () => expect(await available(sku, "DC-1")).toBe(0n));
    const { order: declined } = await client.recordPaymentEvent({
      orderId: order?.orderId ?? "",
      paymentEvent: {
        paymentEventId: uniqueName("au"),
        type: PaymentEventType.AUTHORIZATION,
        outcome: PaymentOutcome.DECLINED,
        amount: usd(1742n),
        reason: "insufficient funds",
      },
    });
    expect(declined?.status).toBe(OrderStatus.REJECTED);
    expect(declined?.rejectionReasons).toEqual(["payment declined: insufficient funds"]);
    await until(async () => expect(await available(sku, "DC-1")).toBe(2n));
    const ship = await rejection(
      client.recordShipment({
        requestId: uniqueName("s"),
        orderId: order?.orderId ?? "",
        shipment: {
          shipmentId: "S",
          carrier: "UPS",
          trackingNumber: "T",
          lines: [{ lineId: "1", quantity: 1n }],
        },
      }),
    );
    expect(reason(ship)).toBe("ORDER_CLOSED");
  });

  it("acknowledges a marketplace order once it is accepted, and a second time changes nothing", async () => {
    const sku = uniqueName("SKU");
    await mesh.receive(sku, "DC-1", 2);
    const { order } = await client.submitOrder(
      webOrder(sku, { channel: Channel.MARKETPLACE, channelId: "" }),
    );
    const orderId = order?.orderId ?? "";
    const first = await client.acknowledgeMarketplaceOrder({ requestId: uniqueName("a"), orderId });
    expect(first.order?.marketplaceAcknowledged).toBe(true);
    const second = await client.acknowledgeMarketplaceOrder({ requestId: uniqueName("a"), orderId });
    expect(second.order?.version).toBe(first.order?.version);
    const web = await client.submitOrder(webOrder(sku));
    expect(
      reason(
        await rejection(
          client.acknowledgeMarketplaceOrder({
            requestId: uniqueName("a"),
            orderId: web.order?.orderId ?? "",
          }),
        ),
      ),
    ).toBe("NOT_A_MARKETPLACE_ORDER");
  });

  it("lists orders by customer and status, a page at a time", async () => {
    const sku = uniqueName("SKU");
    await mesh.receive(sku, "DC-1", 5);
    const base = webOrder(sku);
    const ids: string[] = [];
    let customerId = "";
    for (let i = 0; i < 3; i++) {
      const { order } = await client.submitOrder({
        ...base,
        requestId: uniqueName("r"),
        channelOrderId: uniqueName("co"),
      });
      ids.push(order?.orderId ?? "");
      customerId = order?.customerId ?? "";
    }
    const seen: string[] = [];
    let pageToken = "";
    do {
      const page = await client.listOrders({
        customerId,
        status: OrderStatus.ACCEPTED,
        pageSize: 2,
        pageToken,
      });
      seen.push(...page.orders.map((o) => o.orderId));
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(seen.sort()).toEqual([...ids].sort());
    const recent = await client.listOrders({
      channel: Channel.WEB,
      updatedSince: timestampFromDate(new Date(Date.now() - 60_000)),
      pageSize: 500,
    });
    expect(recent.orders.map((o) => o.orderId)).toEqual(expect.arrayContaining(ids));
    const future = await client.listOrders({
      updatedSince: timestampFromDate(new Date(Date.now() + 60_000)),
    });
    expect(future.orders).toEqual([]);
  });

  it("lists a merged-away customer's orders under the survivor, and gives them back on unmerge", async () => {
    const sku = uniqueName("SKU");
    await mesh.receive(sku, "DC-1", 2);
    const { order } = await client.submitOrder(webOrder(sku));
    const mergedId = order?.customerId ?? "";
    const { customer: survivor } = await mesh.customers.upsertFromSource({
      requestId: uniqueName("u"),
      sourceRecord: {
        sourceSystem: "pos",
        sourceId: uniqueName("m"),
        email: `${uniqueName("s")}@example.com`,
      },
    });
    const survivorId = survivor?.customerId ?? "";
    await mesh.customers.mergeCustomers({
      requestId: uniqueName("m"),
      survivorCustomerId: survivorId,
      mergedCustomerIds: [mergedId],
    });
    const listed = async (customerId: string) =>
      (await client.listOrders({ customerId })).orders.map((o) => o.orderId);
    await until(async () => expect(await listed(survivorId)).toEqual([order?.orderId]), {
      timeout: 15_000,
    });
    expect(await listed(mergedId)).toEqual([]);
    await mesh.customers.unmergeCustomer({
      requestId: uniqueName("u"),
      customerId: survivorId,
      restoredCustomerId: mergedId,
    });
    await until(async () => expect(await listed(mergedId)).toEqual([order?.orderId]), {
      timeout: 15_000,
    });
    expect(await listed(survivorId)).toEqual([]);
    // The merge delivered again, late (its version is older than the unmerge's): nothing moves.
    expect(await running.deps.views.customerLink(mergedId, survivorId, 1n)).toBe(0);
    expect(await listed(mergedId)).toEqual([order?.orderId]);
  });

  it("refuses malformed submissions with a violation per field", async () => {
    const error = await rejection(
      client.submitOrder({
        requestId: "r1",
        channel: Channel.WEB,
        channelOrderId: "c1",
        currencyCode: "usd",
        customer: {},
        lines: [
          {
            lineId: "1",
            sku: "",
            quantity: 0n,
            unitPrice: usd(-5n),
            fulfillmentType: FulfillmentType.PICKUP_IN_STORE,
          },
        ],
      }),
    );
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.findDetails(BadRequestSchema)[0]?.fieldViolations.map((v) => v.field)).toEqual([
      "currency_code",
      "customer",
      "lines[0].sku",
      "lines[0].quantity",
      "lines[0].unit_price.minor_units",
      "lines[0].fulfillment_location_id",
    ]);
    const sku = uniqueName("SKU");
    const noTax = await rejection(
      client.submitOrder(
        webOrder(sku, { shipTo: { ...shipTo, administrativeArea: "ZZ", regionCode: "ZZ" } }),
      ),
    );
    expect(noTax.findDetails(BadRequestSchema)[0]?.fieldViolations[0]).toMatchObject({
      field: "ship_to.administrative_area",
      description: expect.stringContaining("no tax rate for jurisdiction ZZ-ZZ and tax code standard"),
    });
    expect((await rejection(client.getOrder({ orderId: "ord-missing" }))).code).toBe(Code.NotFound);
  });
});

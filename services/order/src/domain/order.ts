import { clone } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type {
  ChargebackOpened,
  ChargebackReversed,
  MarketplaceOrderAcknowledged,
  OrderAccepted,
  OrderLineCancelled,
  OrderLineResourced,
  OrderPickedUp,
  OrderReadyForPickup,
  OrderReceived,
  OrderRejected,
  OrderReturned,
  PaymentCaptured,
  PaymentEventRecorded,
  RefundIssued,
  ShipmentDispatched,
  TaxHoldReleased,
} from "@retail/contracts/retail/order/v1/order_events_pb";
import {
  FulfillmentType,
  LineStatus,
  type Order,
  type OrderLine,
  OrderSchema,
  OrderStatus,
  PaymentEventType,
  PaymentOutcome,
} from "@retail/contracts/retail/order/v1/order_pb";
import { money, units } from "./money.js";

export type OrderEvent =
  | OrderReceived
  | OrderAccepted
  | OrderRejected
  | OrderLineCancelled
  | ShipmentDispatched
  | OrderReadyForPickup
  | OrderPickedUp
  | OrderReturned
  | PaymentCaptured
  | RefundIssued
  | ChargebackOpened
  | ChargebackReversed
  | PaymentEventRecorded
  | MarketplaceOrderAcknowledged
  | OrderLineResourced
  | TaxHoldReleased;

/** Units of a line neither cancelled nor yet shipped or collected: what can still change. */
export function openQuantity(line: OrderLine): bigint {
  return line.quantity - line.cancelledQuantity - line.shippedQuantity;
}

export function isPickup(line: OrderLine): boolean {
  return line.fulfillmentType === FulfillmentType.PICKUP_IN_STORE;
}

/** A line sold at a till and handed over there: nothing to reserve or ship. */
export function isCarryOut(line: Pick<OrderLine, "fulfillmentType">): boolean {
  return line.fulfillmentType === FulfillmentType.CARRY_OUT;
}

function lineStatus(line: OrderLine): LineStatus {
  const live = line.quantity - line.cancelledQuantity;
  if (live === 0n) return LineStatus.CANCELLED;
  if (
    line.returnedQuantity > 0n &&
    line.returnedQuantity === line.shippedQuantity &&
    line.shippedQuantity === live
  ) {
    return LineStatus.RETURNED;
  }
  if (isPickup(line) || isCarryOut(line)) {
    if (line.shippedQuantity === live) return LineStatus.PICKED_UP;
    return line.status === LineStatus.READY_FOR_PICKUP ? LineStatus.READY_FOR_PICKUP : LineStatus.ACCEPTED;
  }
  if (line.shippedQuantity === live) return LineStatus.SHIPPED;
  return line.shippedQuantity > 0n ? LineStatus.PARTIALLY_SHIPPED : LineStatus.ACCEPTED;
}

/** The order's status from its lines: one status per order, never stored apart from them. */
function orderStatus(order: Order): OrderStatus {
  const statuses = order.lines.map((l) => l.status);
  const live = statuses.filter((s) => s !== LineStatus.CANCELLED);
  if (live.length === 0) return OrderStatus.CANCELLED;
  if (live.every((s) => s === LineStatus.RETURNED)) return OrderStatus.RETURNED;
  if (order.lines.some((l) => l.returnedQuantity > 0n)) return OrderStatus.PARTIALLY_RETURNED;
  const done = (s: LineStatus) => s === LineStatus.SHIPPED || s === LineStatus.PICKED_UP;
  if (live.every(done)) return OrderStatus.FULFILLED;
  if (order.lines.some((l) => l.shippedQuantity > 0n)) return OrderStatus.PARTIALLY_FULFILLED;
  return OrderStatus.ACCEPTED;
}

function derive(order: Order): Order {
  if (order.status === OrderStatus.PENDING || order.status === OrderStatus.REJECTED) return order;
  for (const line of order.lines) line.status = lineStatus(line);
  order.status = orderStatus(order);
  return order;
}

function line(order: Order, lineId: string): OrderLine | undefined {
  return order.lines.find((l) => l.lineId === lineId);
}

const add = (
  order: Order,
  field: "capturedTotal" | "refundedTotal" | "chargebackTotal" | "chargebackReversedTotal",
  amount: bigint,
) => {
  order[field] = money(order.grandTotal?.currencyCode ?? "", units(order[field]) + amount);
};

/** Applies one event of the order's stream; `at` is when it was recorded. */
export function evolve(state: Order | undefined, event: OrderEvent, version: number, at: Date): Order {
  if (
    event.$typeName === "retail.order.v1.OrderReceived" ||
    event.$typeName === "retail.order.v1.OrderAccepted"
  ) {
    const order = clone(OrderSchema, event.order ?? state ?? ({} as Order));
    order.version = BigInt(version);
    order.updateTime = timestampFromDate(at);
    return derive(order);
  }
  if (!state) throw new Error(`${event.$typeName} before the order was received`);
  const order = clone(OrderSchema, state);
  order.version = BigInt(version);
  order.updateTime = timestampFromDate(at);
  switch (event.$typeName) {
    case "retail.order.v1.OrderRejected":
      order.status = OrderStatus.REJECTED;
      order.rejectionReasons = [...event.reasons];
      for (const l of order.lines) l.status = LineStatus.REJECTED;
      return order;
    case "retail.order.v1.OrderLineCancelled":
      for (const a of event.lines) {
        const l = line(order, a.lineId);
        if (l) l.cancelledQuantity += a.quantity;
      }
      break;
    case "retail.order.v1.ShipmentDispatched":
      if (event.shipment) order.shipments.push(event.shipment);
      for (const s of event.shipment?.lines ?? []) {
        const l = line(order, s.lineId);
        if (l) l.shippedQuantity += s.quantity;
      }
      break;
    case "retail.order.v1.OrderReadyForPickup":
      for (const id of event.lineIds) {
        const l = line(order, id);
        if (l) l.status = LineStatus.READY_FOR_PICKUP;
      }
      if (event.collectByTime) order.collectByTime = event.collectByTime;
      break;
    case "retail.order.v1.OrderPickedUp":
      for (const a of event.lines) {
        const l = line(order, a.lineId);
        if (l) l.shippedQuantity += a.quantity;
      }
      break;
    case "retail.order.v1.OrderReturned":
      if (event.return) order.returns.push(event.return);
      for (const r of event.return?.lines ?? []) {
        const l = line(order, r.lineId);
        if (l) l.returnedQuantity += r.quantity;
      }
      break;
    case "retail.order.v1.PaymentCaptured":
      if (event.paymentEvent) order.paymentEvents.push(event.paymentEvent);
      add(order, "capturedTotal", units(event.paymentEvent?.amount));
      break;
    case "retail.order.v1.RefundIssued":
      if (event.paymentEvent) order.paymentEvents.push(event.paymentEvent);
      add(order, "refundedTotal", units(event.paymentEvent?.amount));
      break;
    case "retail.order.v1.ChargebackOpened":
      if (event.paymentEvent) order.paymentEvents.push(event.paymentEvent);
      add(order, "chargebackTotal", units(event.paymentEvent?.amount));
      break;
    case "retail.order.v1.ChargebackReversed":
      if (event.paymentEvent) order.paymentEvents.push(event.paymentEvent);
      add(order, "chargebackReversedTotal", units(event.paymentEvent?.amount));
      break;
    case "retail.order.v1.PaymentEventRecorded":
      if (event.paymentEvent) order.paymentEvents.push(event.paymentEvent);
      break;
    case "retail.order.v1.MarketplaceOrderAcknowledged":
      order.marketplaceAcknowledged = true;
      break;
    case "retail.order.v1.TaxHoldReleased":
      order.taxHoldReason = "";
      break;
    case "retail.order.v1.OrderLineResourced": {
      const l = line(order, event.lineId);
      if (l) l.fulfillmentLocationId = event.toLocationId;
      if (event.reservationId && !order.reservationIds.includes(event.reservationId)) {
        order.reservationIds.push(event.reservationId);
      }
      break;
    }
  }
  return derive(order);
}

/** Whether the latest authorization holds the order for review (nothing ships until it is approved). */
export function onPaymentHold(order: Order): boolean {
  const authorizations = order.paymentEvents.filter((e) => e.type === PaymentEventType.AUTHORIZATION);
  return authorizations.at(-1)?.outcome === PaymentOutcome.PENDING_REVIEW;
}

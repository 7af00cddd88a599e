import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import {
  ChargebackOpenedSchema,
  ChargebackReversedSchema,
  MarketplaceOrderAcknowledgedSchema,
  OrderLineCancelledSchema,
  OrderPickedUpSchema,
  OrderReadyForPickupSchema,
  OrderRejectedSchema,
  OrderReturnedSchema,
  PaymentCapturedSchema,
  PaymentEventRecordedSchema,
  RefundBasis,
  RefundIssuedSchema,
  ShipmentDispatchedSchema,
} from "@retail/contracts/retail/order/v1/order_events_pb";
import {
  LineStatus,
  type Order,
  type OrderLine,
  OrderStatus,
  type PaymentEvent,
  PaymentEventType,
  PaymentOutcome,
  type Return,
  type Shipment,
} from "@retail/contracts/retail/order/v1/order_pb";
import { type LineAmounts, LineAmountsSchema } from "@retail/contracts/retail/order/v1/order_service_pb";
import { RuleViolated, UnknownLine } from "./errors.js";
import { allocate, money, mulDivRound, shareOf, units } from "./money.js";
import { isPickup, type OrderEvent, onPaymentHold, openQuantity } from "./order.js";

export interface LineQuantity {
  readonly lineId: string;
  readonly quantity: bigint;
}

/**
 * What `quantity` more units of a line are worth, after `before` units were accounted for: gross,
 * discount and tax each from one allocation over the line's units, net as gross less discount.
 */
export function lineAmounts(order: Order, line: OrderLine, before: bigint, quantity: bigint): LineAmounts {
  const currency = order.grandTotal?.currencyCode ?? "";
  const gross = shareOf(units(line.unitPrice) * line.quantity, line.quantity, before, quantity);
  const discount = shareOf(units(line.discount), line.quantity, before, quantity);
  const net = gross - discount;
  const tax = shareOf(units(line.tax), line.quantity, before, quantity);
  return create(LineAmountsSchema, {
    lineId: line.lineId,
    sku: line.sku,
    quantity,
    netAmount: money(currency, net),
    discount: money(currency, discount),
    tax: money(currency, tax),
    taxCode: line.taxCode,
  });
}

function requireLine(order: Order, field: string, lineId: string): OrderLine {
  const line = order.lines.find((l) => l.lineId === lineId);
  if (!line) throw new UnknownLine(field, lineId);
  return line;
}

function requireOpenOrder(order: Order, action: string): void {
  if (order.status === OrderStatus.PENDING) {
    throw new RuleViolated(
      "ORDER_NOT_ACCEPTED",
      `cannot ${action}: order ${order.orderId} is not accepted yet`,
    );
  }
  if (order.status === OrderStatus.REJECTED || order.status === OrderStatus.CANCELLED) {
    throw new RuleViolated(
      "ORDER_CLOSED",
      `cannot ${action}: order ${order.orderId} is ${OrderStatus[order.status]}`,
    );
  }
}

function requireOpenQuantity(line: OrderLine, quantity: bigint, action: string): void {
  const open = openQuantity(line);
  if (open === 0n) {
    throw new RuleViolated(
      "LINE_NOT_OPEN",
      `cannot ${action} line ${line.lineId}: it is ${LineStatus[line.status]}`,
      {
        line_id: line.lineId,
      },
    );
  }
  if (quantity > open) {
    throw new RuleViolated(
      "QUANTITY_EXCEEDS_OPEN",
      `cannot ${action} ${quantity} of line ${line.lineId}: ${open} open`,
      { line_id: line.lineId, open: String(open) },
    );
  }
}

/** Cancels quantities of lines (every open unit when none are named). */
export function cancelLines(order: Order, lines: readonly LineQuantity[], reason: string): OrderEvent[] {
  requireOpenOrder(order, "cancel");
  const wanted =
    lines.length > 0
      ? lines.map((l, i) => ({
          line: requireLine(order, `lines[${i}].line_id`, l.lineId),
          quantity: l.quantity,
        }))
      : order.lines
          .filter((l) => openQuantity(l) > 0n)
          .map((line) => ({ line, quantity: openQuantity(line) }));
  if (wanted.length === 0)
    throw new RuleViolated("NOTHING_TO_CANCEL", `order ${order.orderId} has no open line`);
  for (const w of wanted) requireOpenQuantity(w.line, w.quantity, "cancel");
  const amounts = wanted.map((w) =>
    lineAmounts(order, w.line, w.line.shippedQuantity + w.line.cancelledQuantity, w.quantity),
  );
  return [create(OrderLineCancelledSchema, { orderId: order.orderId, lines: amounts, reason })];
}

/** A shipment of some units of shippable lines (a split shipment is several of these). */
export function shipLines(order: Order, shipment: Shipment, now: Date): OrderEvent[] {
  requireOpenOrder(order, "ship");
  if (onPaymentHold(order)) {
    throw new RuleViolated("PAYMENT_ON_HOLD", `order ${order.orderId} waits for its payment review`);
  }
  const amounts = shipment.lines.map((s, i) => {
    const line = requireLine(order, `shipment.lines[${i}].line_id`, s.lineId);
    if (isPickup(line)) {
      throw new RuleViolated("LINE_NOT_SHIPPABLE", `line ${line.lineId} is collected in store, not shipped`);
    }
    requireOpenQuantity(line, s.quantity, "ship");
    return lineAmounts(order, line, line.shippedQuantity + line.cancelledQuantity, s.quantity);
  });
  const dispatched = { ...shipment, shipTime: shipment.shipTime ?? timestampFromDate(now) };
  return [
    create(ShipmentDispatchedSchema, {
      orderId: order.orderId,
      channel: order.channel,
      shipment: dispatched,
      lines: amounts,
    }),
  ];
}

/** Marks pickup lines ready in store (every open pickup line when none are named). */
export function markReady(order: Order, lineIds: readonly string[], collectBy: Date): OrderEvent[] {
  requireOpenOrder(order, "mark ready for pickup");
  const lines =
    lineIds.length > 0
      ? lineIds.map((id, i) => requireLine(order, `line_ids[${i}]`, id))
      : order.lines.filter((l) => isPickup(l) && openQuantity(l) > 0n);
  if (lines.length === 0)
    throw new RuleViolated("NO_PICKUP_LINES", `order ${order.orderId} has no open pickup line`);
  for (const line of lines) {
    if (!isPickup(line))
      throw new RuleViolated("LINE_NOT_PICKUP", `line ${line.lineId} is shipped, not collected`);
    requireOpenQuantity(line, openQuantity(line), "mark ready");
  }
  return [
    create(OrderReadyForPickupSchema, {
      orderId: order.orderId,
      locationId: lines[0]?.fulfillmentLocationId ?? "",
      lineIds: lines.map((l) => l.lineId),
      collectByTime: timestampFromDate(collectBy),
    }),
  ];
}

/** The customer collected ready lines (every ready line when none are named). */
export function recordPickup(order: Order, lineIds: readonly string[]): OrderEvent[] {
  requireOpenOrder(order, "record a pickup");
  const lines =
    lineIds.length > 0
      ? lineIds.map((id, i) => requireLine(order, `line_ids[${i}]`, id))
      : order.lines.filter((l) => l.status === LineStatus.READY_FOR_PICKUP);
  if (lines.length === 0)
    throw new RuleViolated("LINE_NOT_READY", `order ${order.orderId} has no line ready for pickup`);
  for (const line of lines) {
    if (line.status !== LineStatus.READY_FOR_PICKUP) {
      throw new RuleViolated("LINE_NOT_READY", `line ${line.lineId} is not ready for pickup`, {
        line_id: line.lineId,
      });
    }
  }
  return [
    create(OrderPickedUpSchema, {
      orderId: order.orderId,
      channel: order.channel,
      locationId: lines[0]?.fulfillmentLocationId ?? "",
      lines: lines.map((l) =>
        lineAmounts(order, l, l.shippedQuantity + l.cancelledQuantity, openQuantity(l)),
      ),
    }),
  ];
}

/** A return received: only what was delivered can come back; the refund due is computed per line. */
export function receiveReturn(order: Order, ret: Return, now: Date): OrderEvent[] {
  if (order.status === OrderStatus.PENDING || order.status === OrderStatus.REJECTED) {
    throw new RuleViolated("ORDER_NOT_DELIVERED", `order ${order.orderId} delivered nothing to return`);
  }
  const amounts = ret.lines.map((r, i) => {
    const line = requireLine(order, `return.lines[${i}].line_id`, r.lineId);
    const returnable = line.shippedQuantity - line.returnedQuantity;
    if (r.quantity > returnable) {
      throw new RuleViolated(
        "RETURN_EXCEEDS_DELIVERED",
        `line ${line.lineId}: ${r.quantity} returned, ${returnable} delivered and not returned`,
        {
          line_id: line.lineId,
        },
      );
    }
    return lineAmounts(order, line, line.returnedQuantity, r.quantity);
  });
  const refund = amounts.reduce((s, a) => s + units(a.netAmount) + units(a.tax), 0n);
  const received: Return = {
    ...ret,
    receiveTime: ret.receiveTime ?? timestampFromDate(now),
    refundAmount: money(order.grandTotal?.currencyCode ?? "", refund),
  };
  return [create(OrderReturnedSchema, { orderId: order.orderId, return: received, lines: amounts })];
}

/**
 * What the order has delivered, as revenue sees it: each line's delivered units (net and tax), and the
 * shipping charge once anything was delivered (it is recognised with the first delivery).
 */
export function deliveredValue(order: Order): bigint {
  let value = 0n;
  for (const line of order.lines) {
    if (line.shippedQuantity === 0n) continue;
    const part = lineAmounts(order, line, 0n, line.shippedQuantity);
    value += units(part.netAmount) + units(part.tax);
  }
  return value > 0n ? value + units(order.shippingTotal) : 0n;
}

/** A refund's split over the lines it names (by their totals), with the tax part of each. */
function refundLines(order: Order, event: PaymentEvent): { lines: LineAmounts[]; tax: bigint } {
  const amount = units(event.amount);
  if (event.lineIds.length === 0) {
    const grand = units(order.grandTotal);
    return { lines: [], tax: grand === 0n ? 0n : mulDivRound(amount, units(order.taxTotal), grand) };
  }
  const lines = event.lineIds.map((id, i) => requireLine(order, `payment_event.line_ids[${i}]`, id));
  const parts = allocate(
    amount,
    lines.map((l) => units(l.lineTotal)),
  );
  const currency = order.grandTotal?.currencyCode ?? "";
  const amounts = lines.map((l, i) => {
    const part = parts[i] as bigint;
    const total = units(l.lineTotal);
    const tax = total === 0n ? 0n : mulDivRound(part, units(l.tax), total);
    return create(LineAmountsSchema, {
      lineId: l.lineId,
      sku: l.sku,
      netAmount: money(currency, part - tax),
      tax: money(currency, tax),
      taxCode: l.taxCode,
    });
  });
  return { lines: amounts, tax: amounts.reduce((s, a) => s + units(a.tax), 0n) };
}

/**
 * What a payment gateway reports. An approved capture or refund moves the totals (never past the order
 * total or what was captured); a declined authorization rejects an order that has delivered nothing,
 * which releases its stock; an authorization held for review stops shipping until it is approved.
 */
export function recordPayment(order: Order, event: PaymentEvent): OrderEvent[] {
  if (order.status === OrderStatus.PENDING) {
    throw new RuleViolated("ORDER_NOT_ACCEPTED", `order ${order.orderId} is not accepted yet`);
  }
  const currency = order.grandTotal?.currencyCode ?? "";
  if (event.amount && event.amount.currencyCode !== currency) {
    throw new RuleViolated(
      "CURRENCY_MISMATCH",
      `payment in ${event.amount.currencyCode}, order in ${currency}`,
    );
  }
  const base = { orderId: order.orderId, channel: order.channel, paymentEvent: event };
  const amount = units(event.amount);
  const captured = units(order.capturedTotal);
  const refunded = units(order.refundedTotal);
  const approved = event.outcome === PaymentOutcome.APPROVED;
  switch (event.type) {
    case PaymentEventType.AUTHORIZATION: {
      const recorded = create(PaymentEventRecordedSchema, { orderId: order.orderId, paymentEvent: event });
      const delivered = order.lines.some((l) => l.shippedQuantity > 0n);
      if (event.outcome !== PaymentOutcome.DECLINED || delivered || order.status === OrderStatus.REJECTED)
        return [recorded];
      const reasons = [`payment declined${event.reason ? `: ${event.reason}` : ""}`];
      return [
        recorded,
        create(OrderRejectedSchema, {
          orderId: order.orderId,
          channel: order.channel,
          channelOrderId: order.channelOrderId,
          reasons,
        }),
      ];
    }
    case PaymentEventType.CAPTURE:
      if (!approved)
        return [create(PaymentEventRecordedSchema, { orderId: order.orderId, paymentEvent: event })];
      if (order.status === OrderStatus.REJECTED)
        throw new RuleViolated("ORDER_CLOSED", `order ${order.orderId} was rejected`);
      if (captured + amount > units(order.grandTotal)) {
        throw new RuleViolated(
          "CAPTURE_EXCEEDS_ORDER_TOTAL",
          `capturing ${amount} more would exceed the order total ${units(order.grandTotal)} (captured ${captured})`,
        );
      }
      return [create(PaymentCapturedSchema, base)];
    case PaymentEventType.REFUND: {
      if (!approved)
        return [create(PaymentEventRecordedSchema, { orderId: order.orderId, paymentEvent: event })];
      if (refunded + amount > captured) {
        throw new RuleViolated(
          "REFUND_EXCEEDS_CAPTURED",
          `refunding ${amount} more would exceed the ${captured} captured (refunded ${refunded})`,
          {
            captured: String(captured),
            refunded: String(refunded),
          },
        );
      }
      const { lines, tax } = refundLines(order, event);
      const basis =
        deliveredValue(order) >= refunded + amount ? RefundBasis.DELIVERED : RefundBasis.UNDELIVERED;
      return [create(RefundIssuedSchema, { ...base, lines, taxRefunded: money(currency, tax), basis })];
    }
    case PaymentEventType.CHARGEBACK:
      if (amount > captured - refunded) {
        throw new RuleViolated(
          "CHARGEBACK_EXCEEDS_CAPTURED",
          `a chargeback of ${amount} exceeds the ${captured - refunded} captured and not refunded`,
        );
      }
      return [
        create(ChargebackOpenedSchema, {
          orderId: order.orderId,
          paymentEvent: event,
          fee: money(currency, 0n),
        }),
      ];
    case PaymentEventType.CHARGEBACK_REVERSAL: {
      if (!approved)
        return [create(PaymentEventRecordedSchema, { orderId: order.orderId, paymentEvent: event })];
      const open = units(order.chargebackTotal) - units(order.chargebackReversedTotal);
      if (amount > open) {
        throw new RuleViolated(
          "REVERSAL_EXCEEDS_CHARGEBACKS",
          `reversing ${amount} exceeds the ${open} charged back and not reversed`,
          { charged_back: String(open) },
        );
      }
      return [create(ChargebackReversedSchema, base)];
    }
    default:
      throw new RuleViolated("UNKNOWN_PAYMENT_EVENT", "payment event type is required");
  }
}

/** A marketplace acknowledgment: only once accepted here; a late or repeated one changes nothing. */
export function acknowledge(order: Order): OrderEvent[] {
  if (order.channel !== Channel.MARKETPLACE) {
    throw new RuleViolated(
      "NOT_A_MARKETPLACE_ORDER",
      `order ${order.orderId} did not come from a marketplace`,
    );
  }
  if (order.status === OrderStatus.PENDING) {
    throw new RuleViolated("ORDER_NOT_ACCEPTED", `order ${order.orderId} is not accepted yet`);
  }
  if (order.status === OrderStatus.REJECTED) {
    throw new RuleViolated(
      "ORDER_REJECTED",
      `order ${order.orderId} was rejected: it cannot be acknowledged`,
    );
  }
  if (order.marketplaceAcknowledged) return [];
  return [
    create(MarketplaceOrderAcknowledgedSchema, {
      orderId: order.orderId,
      channelId: order.channelId,
      channelOrderId: order.channelOrderId,
    }),
  ];
}

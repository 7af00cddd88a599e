import { Channel, ChannelSchema } from "@retail/contracts/retail/common/v1/common_pb";
import type { Money } from "@retail/contracts/retail/common/v1/money_pb";
import {
  FulfillmentType,
  type PaymentEvent,
  PaymentEventTypeSchema,
  PaymentOutcomeSchema,
  type Return,
  ReturnConditionSchema,
  type Shipment,
} from "@retail/contracts/retail/order/v1/order_pb";
import type { SubmitOrderRequest } from "@retail/contracts/retail/order/v1/order_service_pb";
import { isCurrencyCode } from "@retail/platform/money";
import { Violations } from "@retail/platform/rpc";

const idPattern = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;
const maxLines = 500;
const maxQuantity = 1_000_000n;

export function known(schema: { values: ReadonlyArray<{ number: number }> }, value: number): boolean {
  return value !== 0 && schema.values.some((v) => v.number === value);
}

export function checkId(v: Violations, field: string, id: string): void {
  if (v.require(field, id) && !idPattern.test(id)) v.add(field, "must be 1-128 letters, digits or . _ : / -");
}

/** A non-negative amount in the order's currency (or, when `currency` is "", any ISO 4217 code). */
export function checkMoney(
  v: Violations,
  field: string,
  m: Money | undefined,
  currency: string,
  required = false,
): void {
  if (!m) {
    if (required) v.add(field, "is required");
    return;
  }
  if (!isCurrencyCode(m.currencyCode))
    v.add(`${field}.currency_code`, "must be an ISO 4217 code such as USD");
  else if (currency && m.currencyCode !== currency)
    v.add(`${field}.currency_code`, `must be the order currency ${currency}`);
  if (m.minorUnits < 0n) v.add(`${field}.minor_units`, "must be zero or more");
}

function checkQuantity(v: Violations, field: string, q: bigint): void {
  if (q <= 0n) v.add(field, "must be greater than zero");
  else if (q > maxQuantity) v.add(field, `must be at most ${maxQuantity}`);
}

/** A submission fit to price and accept: every field rule at once, so a channel fixes all in one go. */
export function checkSubmission(v: Violations, r: SubmitOrderRequest): void {
  checkId(v, "request_id", r.requestId);
  if (!known(ChannelSchema, r.channel)) v.add("channel", "must be a known channel");
  checkId(v, "channel_order_id", r.channelOrderId);
  if (r.channelId) checkId(v, "channel_id", r.channelId);
  const currency = isCurrencyCode(r.currencyCode) ? r.currencyCode : "";
  if (!currency) v.add("currency_code", "must be an ISO 4217 code such as USD");
  const c = r.customer;
  if (!c) v.add("customer", "is required");
  else if (!c.customerId && !(c.sourceSystem && c.sourceId)) {
    v.add("customer", "must give customer_id, or source_system and source_id with the customer's details");
  }
  if (r.lines.length === 0) v.add("lines", "is required");
  if (r.lines.length > maxLines) v.add("lines", `must have at most ${maxLines} lines`);
  const ids = new Set<string>();
  let shipped = false;
  for (const [i, line] of r.lines.entries()) {
    checkId(v, `lines[${i}].line_id`, line.lineId);
    if (ids.has(line.lineId)) v.add(`lines[${i}].line_id`, "repeats another line's id");
    ids.add(line.lineId);
    checkId(v, `lines[${i}].sku`, line.sku);
    checkQuantity(v, `lines[${i}].quantity`, line.quantity);
    checkMoney(v, `lines[${i}].unit_price`, line.unitPrice, currency, true);
    checkMoney(v, `lines[${i}].discount`, line.discount, currency);
    checkMoney(v, `lines[${i}].charged_tax`, line.chargedTax, currency);
    if (
      line.unitPrice &&
      line.discount &&
      line.discount.minorUnits > line.unitPrice.minorUnits * line.quantity
    ) {
      v.add(`lines[${i}].discount`, "must not exceed unit_price x quantity");
    }
    if (line.fulfillmentType === FulfillmentType.CARRY_OUT && r.channel !== Channel.POS)
      v.add(`lines[${i}].fulfillment_type`, "CARRY_OUT is for CHANNEL_POS sales handed over at the till");
    if (
      line.fulfillmentType === FulfillmentType.PICKUP_IN_STORE ||
      line.fulfillmentType === FulfillmentType.CARRY_OUT
    ) {
      v.require(`lines[${i}].fulfillment_location_id`, line.fulfillmentLocationId);
    } else shipped = true;
  }
  if (shipped && !r.shipTo) v.add("ship_to", "is required when a line is shipped");
  if (r.shipTo && !/^[A-Z]{2}$/.test(r.shipTo.regionCode))
    v.add("ship_to.region_code", "must be an ISO 3166-1 alpha-2 code");
  checkMoney(v, "order_discount", r.orderDiscount, currency);
  checkMoney(v, "shipping_charge", r.shippingCharge, currency);
  const gross = r.lines.reduce(
    (s, l) => s + (l.unitPrice?.minorUnits ?? 0n) * l.quantity - (l.discount?.minorUnits ?? 0n),
    0n,
  );
  if (r.orderDiscount && r.orderDiscount.minorUnits > gross)
    v.add("order_discount", "must not exceed the lines' total");
}

export function checkLineQuantities(
  v: Violations,
  field: string,
  lines: ReadonlyArray<{ lineId: string; quantity: bigint }>,
): void {
  for (const [i, l] of lines.entries()) {
    v.require(`${field}[${i}].line_id`, l.lineId);
    checkQuantity(v, `${field}[${i}].quantity`, l.quantity);
  }
}

export function checkShipment(v: Violations, s: Shipment | undefined): void {
  if (!s) {
    v.add("shipment", "is required");
    return;
  }
  checkId(v, "shipment.shipment_id", s.shipmentId);
  if (s.lines.length === 0) v.add("shipment.lines", "is required");
  checkLineQuantities(v, "shipment.lines", s.lines);
  v.require("shipment.carrier", s.carrier);
  v.require("shipment.tracking_number", s.trackingNumber);
}

export function checkReturn(v: Violations, r: Return | undefined): void {
  if (!r) {
    v.add("return", "is required");
    return;
  }
  checkId(v, "return.return_id", r.returnId);
  checkId(v, "return.location_id", r.locationId);
  if (r.lines.length === 0) v.add("return.lines", "is required");
  checkLineQuantities(v, "return.lines", r.lines);
  for (const [i, l] of r.lines.entries()) {
    if (!known(ReturnConditionSchema, l.condition))
      v.add(`return.lines[${i}].condition`, "must be RESTOCK or DAMAGED");
  }
}

export function checkPaymentEvent(v: Violations, e: PaymentEvent | undefined): void {
  if (!e) {
    v.add("payment_event", "is required");
    return;
  }
  checkId(v, "payment_event.payment_event_id", e.paymentEventId);
  if (!known(PaymentEventTypeSchema, e.type))
    v.add("payment_event.type", "must be AUTHORIZATION, CAPTURE, REFUND, CHARGEBACK or CHARGEBACK_REVERSAL");
  if (!known(PaymentOutcomeSchema, e.outcome))
    v.add("payment_event.outcome", "must be APPROVED, DECLINED or PENDING_REVIEW");
  checkMoney(v, "payment_event.amount", e.amount, "", true);
}

export { Violations };

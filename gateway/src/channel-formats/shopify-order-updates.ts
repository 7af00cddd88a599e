// Shopify's later webhooks about an order the mesh already took from orders/create: orders/paid (the
// capture), refunds/create (money back, per line, with what happens to the goods), orders/cancelled
// and orders/fulfilled (the shop's fulfillments as shipments). Each names the order by Shopify's order id, the channel order id the mesh keeps.
// Ids are read from the `admin_graphql_api_id` gid where there is one: it is a string, so no JSON
// parser on the way can have rounded it (Shopify's own documentation examples carry rounded numeric
// ids beside exact gids). Amounts are decimal strings in the shop currency, converted exactly.
// https://shopify.dev/docs/api/webhooks?reference=toml (orders/paid, refunds/create, orders/cancelled)
import { create } from "@bufbuild/protobuf";
import { type Timestamp, timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  OrderStatus,
  type PaymentEvent,
  PaymentEventSchema,
  PaymentEventType,
  PaymentOutcome,
  ReturnCondition,
  type ReturnLine,
  ReturnLineSchema,
  type Shipment,
  type ShipmentLine,
  ShipmentLineSchema,
  ShipmentSchema,
} from "@retail/contracts/retail/order/v1/order_pb";
import { type FieldViolation, RequestInvalid } from "@retail/platform/rpc";
import { decimalAmount, type Json, list, object, text } from "./json-fields.js";

/**
 * A Shopify resource's id: the number at the end of its gid when the gid names a resource of `kind`,
 * else the numeric id field (kept exact by the lossless parse).
 */
export function shopifyId(resource: Json, kind: string, idField = "id"): string | undefined {
  const gid = text(resource.admin_graphql_api_id);
  const match = gid ? new RegExp(`^gid://shopify/${kind}/(\\d+)$`).exec(gid) : null;
  return match?.[1] ?? text(resource[idField]);
}

function time(value: unknown): Timestamp | undefined {
  const date = new Date(text(value) ?? "");
  return Number.isNaN(date.getTime()) ? undefined : timestampFromDate(date);
}

/**
 * What the storefront shows of an order (any orders/* body), in the mesh's statuses: cancelled once
 * `cancelled_at` is set, else its `fulfillment_status` (none or pending: nothing fulfilled yet;
 * partial; fulfilled; restocked: returned). Undefined for a fulfilment status Shopify has not
 * documented, rather than a guess. As of the order's `updated_at`.
 */
export function shopifyOrderView(order: Json): { status: OrderStatus; observed: Timestamp } | undefined {
  const observed = time(order.updated_at) ?? time(order.created_at);
  if (!observed) return undefined;
  if (text(order.cancelled_at)) return { status: OrderStatus.CANCELLED, observed };
  const fulfillment = order.fulfillment_status ?? null;
  const status =
    fulfillment === null || fulfillment === "pending" || fulfillment === "unfulfilled"
      ? OrderStatus.ACCEPTED
      : (
          {
            partial: OrderStatus.PARTIALLY_FULFILLED,
            fulfilled: OrderStatus.FULFILLED,
            restocked: OrderStatus.RETURNED,
          } as Record<string, OrderStatus>
        )[String(fulfillment)];
  return status === undefined ? undefined : { status, observed };
}

/** The Shopify order id an orders/* webhook is about. */
export function shopifyOrderIdOf(order: Json): string {
  const id = shopifyId(order, "Order");
  if (!id || !/^\d+$/.test(id)) throw new RequestInvalid([{ field: "id", description: "is required" }]);
  return id;
}

/**
 * orders/paid as the capture of what the shopper paid (total_price), keyed by the shop and the order so
 * a resent notice counts once. Shopify's order id is the provider reference: Shopify Payments payouts
 * name the order a balance transaction belongs to by it.
 */
export function shopifyPaidToCapture(order: Json, options: { shopDomain: string }): PaymentEvent {
  const orderId = shopifyOrderIdOf(order);
  const currency = text(order.currency) ?? "";
  const violations: FieldViolation[] = [];
  if (!/^[A-Z]{3}$/.test(currency))
    violations.push({ field: "currency", description: "must be an ISO 4217 code" });
  const known = violations.length;
  const amount = decimalAmount(order.total_price, currency, "total_price", violations);
  if (amount <= 0n && violations.length === known)
    violations.push({ field: "total_price", description: "must be more than zero to capture" });
  if (violations.length > 0) throw new RequestInvalid(violations);
  const gateway = text(list(order.payment_gateway_names)[0] as unknown) ?? "";
  return create(PaymentEventSchema, {
    paymentEventId: `shopify:${options.shopDomain}:order:${orderId}:paid`,
    type: PaymentEventType.CAPTURE,
    outcome: PaymentOutcome.APPROVED,
    amount: { currencyCode: currency, minorUnits: amount },
    paymentMethod: gateway,
    provider: "shopify",
    providerReference: orderId,
    ...optionalTime(time(order.processed_at) ?? time(order.updated_at)),
  });
}

/** The Shopify order id a refunds/create is about (to find the order before the refund is mapped). */
export function shopifyRefundOrderIdOf(refund: Json): string {
  const id = text(refund.order_id);
  if (!id || !/^\d+$/.test(id)) throw new RequestInvalid([{ field: "order_id", description: "is required" }]);
  return id;
}

/** What a refunds/create asks of the mesh, in the order the gateway applies it. */
export interface ShopifyRefund {
  /** Shopify's order id (the channel order id). */
  readonly orderId: string;
  readonly refundId: string;
  /** Lines refunded before they were fulfilled, to cancel (restock_type "cancel"). */
  readonly cancel: ShipmentLine[];
  /** Lines sent back and restocked at a location (restock_type "return"). */
  readonly returned?: { locationId: string; lines: ReturnLine[] };
  /** The money refunded (its successful refund transactions), when there was any. */
  readonly payment?: PaymentEvent;
}

/**
 * refunds/create as cancellations, a return and a refund payment. `locations` maps Shopify location
 * ids to the mesh's (a restock at a location the mesh does not know is refused, naming the field, so
 * nothing is applied until the shop's configuration says where the goods went). Refunded lines with
 * "no_restock" (or "legacy_restock") only move money.
 */
export function shopifyRefundToChanges(
  refund: Json,
  options: { shopDomain: string; currencyCode: string; locations: Readonly<Record<string, string>> },
): ShopifyRefund {
  const violations: FieldViolation[] = [];
  const orderId = text(refund.order_id);
  if (!orderId || !/^\d+$/.test(orderId)) violations.push({ field: "order_id", description: "is required" });
  const refundId = shopifyId(refund, "Refund");
  if (!refundId) violations.push({ field: "id", description: "is required" });
  const currency = options.currencyCode;
  const cancel: ShipmentLine[] = [];
  const returnedLines: ReturnLine[] = [];
  const returnLocations = new Set<string>();
  const lineIds: string[] = [];
  for (const [i, item] of list(refund.refund_line_items).entries()) {
    const at = `refund_line_items[${i}]`;
    const lineId = shopifyId(object(item.line_item), "LineItem") ?? text(item.line_item_id);
    if (!lineId) {
      violations.push({ field: `${at}.line_item_id`, description: "is required" });
      continue;
    }
    const quantity =
      typeof item.quantity === "number" && Number.isSafeInteger(item.quantity) ? item.quantity : 0;
    if (quantity <= 0) {
      violations.push({ field: `${at}.quantity`, description: "must be a positive integer" });
      continue;
    }
    lineIds.push(lineId);
    const restock = text(item.restock_type) ?? "no_restock";
    if (restock === "cancel") cancel.push(create(ShipmentLineSchema, { lineId, quantity: BigInt(quantity) }));
    else if (restock === "return") {
      const shopifyLocation = text(item.location_id);
      const locationId = shopifyLocation ? options.locations[shopifyLocation] : undefined;
      if (!locationId) {
        violations.push({
          field: `${at}.location_id`,
          description: `names no location of the mesh (${shopifyLocation ?? "none"}): map it in the shop's locations`,
        });
        continue;
      }
      returnLocations.add(locationId);
      returnedLines.push(
        create(ReturnLineSchema, {
          lineId,
          quantity: BigInt(quantity),
          condition: ReturnCondition.RESTOCK,
          reason: text(refund.note) ?? "",
        }),
      );
    } else if (restock !== "no_restock" && restock !== "legacy_restock")
      violations.push({
        field: `${at}.restock_type`,
        description: "must be no_restock, cancel, return or legacy_restock",
      });
  }
  if (returnLocations.size > 1)
    violations.push({
      field: "refund_line_items",
      description: "restocks at one location per refund (the mesh records one return per refund)",
    });
  let amount = 0n;
  let gateway: string | undefined;
  for (const [i, transaction] of list(refund.transactions).entries()) {
    if (text(transaction.kind) !== "refund" || text(transaction.status) !== "success") continue;
    gateway ??= text(transaction.gateway);
    const given = text(transaction.currency);
    if (given && given !== currency)
      violations.push({
        field: `transactions[${i}].currency`,
        description: `must be the order's currency ${currency}`,
      });
    amount += decimalAmount(transaction.amount, currency, `transactions[${i}].amount`, violations);
  }
  if (violations.length > 0) throw new RequestInvalid(violations);
  const [locationId] = returnLocations;
  return {
    orderId: orderId ?? "",
    refundId: refundId ?? "",
    cancel,
    ...(locationId && { returned: { locationId, lines: returnedLines } }),
    ...(amount > 0n && {
      payment: create(PaymentEventSchema, {
        paymentEventId: `shopify:${options.shopDomain}:refund:${refundId}`,
        type: PaymentEventType.REFUND,
        outcome: PaymentOutcome.APPROVED,
        amount: { currencyCode: currency, minorUnits: amount },
        paymentMethod: gateway ?? "",
        provider: "shopify",
        providerReference: orderId ?? "",
        lineIds,
        reason: text(refund.note) ?? "",
        ...optionalTime(time(refund.processed_at) ?? time(refund.created_at)),
      }),
    }),
  };
}

const optionalTime = (occurTime: Timestamp | undefined) => (occurTime ? { occurTime } : {});

/** One Shopify fulfillment of an order as the mesh's shipment. */
export interface ShopifyFulfillment {
  readonly fulfillmentId: string;
  readonly shipment: Shipment;
}

/**
 * orders/fulfilled: each successful fulfillment of the order (`fulfillments[]` with status `success`)
 * as a shipment of its line items (Shopify's line item ids are the mesh's line ids) from the mesh
 * location the shop's `locations` map gives for its `location_id`, with its carrier, first tracking
 * number and time. Cancelled, failed or pending fulfillments ship nothing. Every violation is named
 * before anything is mapped.
 */
export function shopifyFulfillmentsToShipments(
  order: Json,
  options: { locations: Readonly<Record<string, string>> },
): ShopifyFulfillment[] {
  const violations: FieldViolation[] = [];
  const shipments: ShopifyFulfillment[] = [];
  for (const [i, fulfillment] of list(order.fulfillments).entries()) {
    const at = `fulfillments[${i}]`;
    if (text(fulfillment.status) !== "success") continue;
    const fulfillmentId = shopifyId(fulfillment, "Fulfillment");
    if (!fulfillmentId) violations.push({ field: `${at}.id`, description: "is required" });
    const shopifyLocation = text(fulfillment.location_id);
    const locationId = shopifyLocation ? options.locations[shopifyLocation] : undefined;
    if (!locationId)
      violations.push({
        field: `${at}.location_id`,
        description: `names no location of the mesh (${shopifyLocation ?? "none"}): map it in the shop's locations`,
      });
    const lines: ShipmentLine[] = [];
    for (const [j, item] of list(fulfillment.line_items).entries()) {
      const lineId = shopifyId(item, "LineItem");
      const quantity =
        typeof item.quantity === "number" && Number.isSafeInteger(item.quantity) ? item.quantity : 0;
      if (!lineId) violations.push({ field: `${at}.line_items[${j}].id`, description: "is required" });
      else if (quantity <= 0)
        violations.push({
          field: `${at}.line_items[${j}].quantity`,
          description: "must be a positive integer",
        });
      else lines.push(create(ShipmentLineSchema, { lineId, quantity: BigInt(quantity) }));
    }
    if (lines.length === 0 && list(fulfillment.line_items).length === 0)
      violations.push({
        field: `${at}.line_items`,
        description: "a fulfillment ships at least one line item",
      });
    if (!fulfillmentId || !locationId) continue;
    const tracking = text(fulfillment.tracking_number) ?? text(list(fulfillment.tracking_numbers)[0]) ?? "";
    const shipTime = time(fulfillment.created_at);
    shipments.push({
      fulfillmentId,
      shipment: create(ShipmentSchema, {
        shipmentId: `shopify-fulfillment-${fulfillmentId}`,
        lines,
        carrier: text(fulfillment.tracking_company) ?? "",
        trackingNumber: tracking,
        fromLocationId: locationId,
        ...(shipTime && { shipTime }),
      }),
    });
  }
  if (violations.length > 0) throw new RequestInvalid(violations);
  return shipments;
}

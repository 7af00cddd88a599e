// Amazon marketplace orders as pulled from the Selling Partner API (Orders API v0: getOrder and
// getOrderItems, their JSON answers as they come) as SubmitOrder requests on the marketplace channel.
// Only merchant-fulfilled (MFN) orders Amazon has released for shipping (Unshipped, PartiallyShipped)
// are taken: FBA (AFN) orders leave Amazon's own stock, Pending ones are not paid and carry no items or
// address yet. ItemPrice and ItemTax are totals for the quantity ordered (the unit price is ItemPrice
// divided by it, exactly); PromotionDiscount is the line's discount, ShippingPrice less ShippingDiscount
// the shipping charge. The buyer's address comes only with a restricted data token: an order pulled
// without it is refused naming the field. Amazon does not share the buyer's email, so the customer is
// keyed by the Amazon order (customer-identity matches it by name and address only if they are given).
// https://developer-docs.amazon.com/sp-api/docs/orders-api-v0-reference
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import { FulfillmentType } from "@retail/contracts/retail/order/v1/order_pb";
import {
  type SubmitOrderRequest,
  SubmitOrderRequestSchema,
} from "@retail/contracts/retail/order/v1/order_service_pb";
import { type FieldViolation, RequestInvalid } from "@retail/platform/rpc";
import { decimalAmount, type Json, list, object, text } from "./json-fields.js";

/**
 * Maps a getOrder answer and the getOrderItems answer of the same order (`{ payload: … }` each, all
 * pages of items in one list) to SubmitOrder, naming every field it cannot use.
 */
export function amazonOrderToSubmit(
  getOrder: Json,
  getOrderItems: Json,
  options: { channelId: string; sourceSystem: string },
): SubmitOrderRequest {
  const violations: FieldViolation[] = [];
  const order = object(getOrder.payload);
  const items = object(getOrderItems.payload);
  const orderId = text(order.AmazonOrderId) ?? "";
  if (!orderId) violations.push({ field: "order.payload.AmazonOrderId", description: "is required" });
  if (text(items.AmazonOrderId) !== orderId)
    violations.push({
      field: "orderItems.payload.AmazonOrderId",
      description: `must be the order's (${orderId}): the items of another order were sent`,
    });
  const status = text(order.OrderStatus) ?? "";
  if (!["Unshipped", "PartiallyShipped"].includes(status))
    violations.push({
      field: "order.payload.OrderStatus",
      description: `is ${status || "missing"}: only orders released for shipping (Unshipped, PartiallyShipped) are taken`,
    });
  if (text(order.FulfillmentChannel) !== "MFN")
    violations.push({
      field: "order.payload.FulfillmentChannel",
      description: "must be MFN: orders Amazon fulfils (AFN) do not take the retailer's stock",
    });
  const currency = text(object(order.OrderTotal).CurrencyCode) ?? "";
  if (!/^[A-Z]{3}$/.test(currency))
    violations.push({
      field: "order.payload.OrderTotal.CurrencyCode",
      description: "must be an ISO 4217 code",
    });
  const money = (value: unknown, field: string): bigint => {
    const amount = object(value);
    if (Object.keys(amount).length === 0) return 0n;
    const given = text(amount.CurrencyCode);
    if (given && given !== currency)
      violations.push({
        field: `${field}.CurrencyCode`,
        description: `must be the order's currency ${currency}`,
      });
    return decimalAmount(amount.Amount, currency, `${field}.Amount`, violations);
  };
  let shipping = 0n;
  const lines = list(items.OrderItems).map((item, i) => {
    const at = `orderItems.payload.OrderItems[${i}]`;
    const sku = text(item.SellerSKU) ?? "";
    if (!sku)
      violations.push({ field: `${at}.SellerSKU`, description: "is required: the mesh tracks stock by SKU" });
    const quantity =
      typeof item.QuantityOrdered === "number" && Number.isSafeInteger(item.QuantityOrdered)
        ? item.QuantityOrdered
        : 0;
    if (quantity <= 0)
      violations.push({ field: `${at}.QuantityOrdered`, description: "must be a positive integer" });
    const total = money(item.ItemPrice, `${at}.ItemPrice`);
    const q = BigInt(Math.max(quantity, 1));
    if (total % q !== 0n)
      violations.push({
        field: `${at}.ItemPrice`,
        description: `is not a whole number of minor units per unit (${total} for ${quantity})`,
      });
    shipping +=
      money(item.ShippingPrice, `${at}.ShippingPrice`) -
      money(item.ShippingDiscount, `${at}.ShippingDiscount`);
    return {
      lineId: text(item.OrderItemId) || String(i + 1),
      sku,
      quantity: BigInt(quantity),
      unitPrice: { currencyCode: currency, minorUnits: total / q },
      discount: {
        currencyCode: currency,
        minorUnits: money(item.PromotionDiscount, `${at}.PromotionDiscount`),
      },
      chargedTax: { currencyCode: currency, minorUnits: money(item.ItemTax, `${at}.ItemTax`) },
      fulfillmentType: FulfillmentType.SHIP,
    };
  });
  if (lines.length === 0)
    violations.push({ field: "orderItems.payload.OrderItems", description: "must list at least one item" });
  const address = object(order.ShippingAddress);
  if (Object.keys(address).length === 0)
    violations.push({
      field: "order.payload.ShippingAddress",
      description: "is required: pull the order with a restricted data token for the buyer's address",
    });
  const placed = new Date(text(order.PurchaseDate) ?? "");
  if (Number.isNaN(placed.getTime()))
    violations.push({ field: "order.payload.PurchaseDate", description: "must be an ISO 8601 time" });
  if (violations.length > 0) throw new RequestInvalid(violations);
  return create(SubmitOrderRequestSchema, {
    channel: Channel.MARKETPLACE,
    channelId: options.channelId,
    channelOrderId: orderId,
    currencyCode: currency,
    placeTime: timestampFromDate(placed),
    customer: {
      sourceSystem: options.sourceSystem,
      sourceId: `amazon-order-${orderId}`,
      familyName: text(address.Name) ?? "",
    },
    lines,
    shipTo: {
      recipient: text(address.Name) ?? "",
      lines: [address.AddressLine1, address.AddressLine2, address.AddressLine3]
        .map(text)
        .filter((l): l is string => Boolean(l)),
      locality: text(address.City) ?? "",
      administrativeArea: text(address.StateOrRegion) ?? "",
      postalCode: text(address.PostalCode) ?? "",
      regionCode: text(address.CountryCode) ?? "",
    },
    ...(shipping > 0n && { shippingCharge: { currencyCode: currency, minorUnits: shipping } }),
  });
}

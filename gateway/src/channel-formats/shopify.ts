// Shopify's orders/create webhook as a SubmitOrder request. Shopify signs the exact body bytes with the
// app's secret (X-Shopify-Hmac-Sha256, base64 HMAC-SHA256); ids are 64-bit JSON numbers, kept exact;
// amounts are decimal strings in the shop currency, converted exactly. Line discounts are the line's
// discount allocations; whatever of total_discounts is not allocated to lines becomes the order
// discount (the order service allocates it by largest remainder). Taxes are the mesh's own: Shopify's
// tax lines are not copied. https://shopify.dev/docs/api/webhooks (orders/create)
import { createHmac, timingSafeEqual } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import { FulfillmentType } from "@retail/contracts/retail/order/v1/order_pb";
import {
  type SubmitOrderRequest,
  SubmitOrderRequestSchema,
} from "@retail/contracts/retail/order/v1/order_service_pb";
import { type FieldViolation, RequestInvalid } from "@retail/platform/rpc";
import { decimalAmount, type Json, list, text } from "./json-fields.js";

/** Whether the base64 HMAC-SHA256 header matches the body under the secret (constant-time compare). */
export function verifyShopifyHmac(body: Buffer, header: string | undefined, secret: string): boolean {
  if (!header) return false;
  const expected = createHmac("sha256", secret).update(body).digest();
  const given = Buffer.from(header, "base64");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * The order's customer as Shopify describes it. A guest checkout has no customer object: the order's
 * own contact details stand in, under a source id of the order itself, so customer-identity resolves
 * the guest by email or phone to the customer already known, or records a new one.
 */
function customerOf(order: Json, orderId: string, sourceSystem: string) {
  const customer = (order.customer ?? undefined) as Json | undefined;
  if (customer && text(customer.id)) {
    return {
      sourceSystem,
      sourceId: text(customer.id) ?? "",
      email: text(customer.email) ?? text(order.email) ?? "",
      phone: text(customer.phone) ?? "",
      givenName: text(customer.first_name) ?? "",
      familyName: text(customer.last_name) ?? "",
    };
  }
  const billing = (order.billing_address ?? order.shipping_address ?? {}) as Json;
  return {
    sourceSystem,
    sourceId: `guest-order-${orderId}`,
    email: text(order.email) ?? text(order.contact_email) ?? "",
    phone: text(order.phone) ?? "",
    givenName: text(billing.first_name) ?? "",
    familyName: text(billing.last_name) ?? "",
  };
}

/** Maps an orders/create payload (parsed losslessly) to SubmitOrder, naming every field it cannot use. */
export function shopifyOrderToSubmit(
  order: Json,
  options: { channelId: string; sourceSystem: string },
): SubmitOrderRequest {
  const violations: FieldViolation[] = [];
  const currency = text(order.currency) ?? "";
  if (!/^[A-Z]{3}$/.test(currency))
    violations.push({ field: "currency", description: "must be an ISO 4217 code" });
  const money = (value: unknown, field: string) => decimalAmount(value, currency, field, violations);
  const sum = (items: Json[], pick: (item: Json) => unknown, field: string) =>
    items.reduce((total, item, i) => total + money(pick(item), `${field}[${i}]`), 0n);
  const orderId = text(order.id);
  if (!orderId) violations.push({ field: "id", description: "is required" });
  const lines = list(order.line_items).map((item, i) => {
    const at = `line_items[${i}]`;
    const sku = text(item.sku);
    if (!sku)
      violations.push({ field: `${at}.sku`, description: "is required: the mesh tracks stock by SKU" });
    const quantity = typeof item.quantity === "number" && Number.isInteger(item.quantity) ? item.quantity : 0;
    if (quantity <= 0)
      violations.push({ field: `${at}.quantity`, description: "must be a positive integer" });
    const discount = sum(list(item.discount_allocations), (a) => a.amount, `${at}.discount_allocations`);
    // Tax Shopify charged on the line: the order keeps it (the mesh's own figure goes beside it).
    const taxLines = list(item.tax_lines);
    const chargedTax = sum(taxLines, (t) => t.price, `${at}.tax_lines`);
    return {
      lineId: text(item.id) ?? String(i + 1),
      sku: sku ?? "",
      quantity: BigInt(quantity),
      unitPrice: { currencyCode: currency, minorUnits: money(item.price, `${at}.price`) },
      discount: { currencyCode: currency, minorUnits: discount },
      fulfillmentType: FulfillmentType.SHIP,
      ...(taxLines.length > 0 && { chargedTax: { currencyCode: currency, minorUnits: chargedTax } }),
    };
  });
  if (lines.length === 0)
    violations.push({ field: "line_items", description: "must list at least one item" });
  const allocated = lines.reduce((total, line) => total + line.discount.minorUnits, 0n);
  const orderDiscount = money(order.total_discounts ?? "0", "total_discounts") - allocated;
  if (orderDiscount < 0n)
    violations.push({
      field: "total_discounts",
      description: "is less than the discounts allocated to the lines",
    });
  const shipping = sum(list(order.shipping_lines), (s) => s.discounted_price ?? s.price, "shipping_lines");
  const address = order.shipping_address as Json | undefined;
  const placed = new Date(text(order.created_at) ?? "");
  if (Number.isNaN(placed.getTime()))
    violations.push({ field: "created_at", description: "must be an ISO 8601 time" });
  if (violations.length > 0) throw new RequestInvalid(violations);
  return create(SubmitOrderRequestSchema, {
    channel: Channel.WEB,
    channelId: options.channelId,
    channelOrderId: orderId ?? "",
    currencyCode: currency,
    placeTime: timestampFromDate(placed),
    customer: customerOf(order, orderId ?? "", options.sourceSystem),
    lines,
    ...(address && {
      shipTo: {
        lines: [text(address.address1), text(address.address2)].filter((l): l is string => Boolean(l)),
        locality: text(address.city) ?? "",
        administrativeArea: text(address.province_code) ?? "",
        postalCode: text(address.zip) ?? "",
        regionCode: text(address.country_code) ?? "",
        recipient: text(address.name) ?? "",
      },
    }),
    ...(orderDiscount > 0n && { orderDiscount: { currencyCode: currency, minorUnits: orderDiscount } }),
    ...(shipping > 0n && { shippingCharge: { currencyCode: currency, minorUnits: shipping } }),
  });
}

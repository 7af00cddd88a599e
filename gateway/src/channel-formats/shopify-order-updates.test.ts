import { readFileSync } from "node:fs";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  OrderStatus,
  PaymentEventType,
  PaymentOutcome,
  ReturnCondition,
} from "@retail/contracts/retail/order/v1/order_pb";
import { refusals as violations } from "@retail/platform/testing";
import { describe, expect, it } from "vitest";
import { parseLosslessJson } from "./lossless-json.js";
import {
  shopifyFulfillmentsToShipments,
  shopifyOrderIdOf,
  shopifyOrderView,
  shopifyPaidToCapture,
  shopifyRefundToChanges,
} from "./shopify-order-updates.js";

const fixtures = new URL("../../test/fixtures/shopify/", import.meta.url);
const sample = (name: string) =>
  parseLosslessJson(readFileSync(new URL(name, fixtures), "utf8")) as Record<string, unknown>;
const shop = { shopDomain: "jsmith.myshopify.com" };

describe("Shopify orders/paid", () => {
  it("is the capture of the total paid, keyed by the shop and the order, with the exact order id from the gid", () => {
    const paid = sample("orders-paid.webhook.docs-example.json");
    // The docs example's numeric id was rounded by JSON.parse on its way here; the gid is exact.
    expect(paid.id).toBe("820982911946154500");
    expect(shopifyOrderIdOf(paid)).toBe("820982911946154508");
    const capture = shopifyPaidToCapture(paid, shop);
    expect(capture).toMatchObject({
      paymentEventId: "shopify:jsmith.myshopify.com:order:820982911946154508:paid",
      type: PaymentEventType.CAPTURE,
      outcome: PaymentOutcome.APPROVED,
      amount: { currencyCode: "USD", minorUnits: 35_997n },
      paymentMethod: "visa",
      provider: "shopify",
      providerReference: "820982911946154508",
    });
    expect(capture.occurTime && timestampDate(capture.occurTime).toISOString()).toBe(
      "2022-01-01T00:00:00.000Z",
    );
  });

  it("names every field it cannot use", () => {
    const paid = sample("orders-paid.webhook.docs-example.json");
    expect(violations(() => shopifyPaidToCapture({ ...paid, total_price: "12.345" }, shop))).toEqual([
      'total_price: "12.345" has more decimals than USD minor units (2)',
    ]);
    expect(
      violations(() => shopifyPaidToCapture({ ...paid, currency: "usd", total_price: "0" }, shop)),
    ).toEqual(["currency: must be an ISO 4217 code", "total_price: must be more than zero to capture"]);
    expect(violations(() => shopifyPaidToCapture({ total_price: "1.00" }, shop))).toEqual([
      "id: is required",
    ]);
  });
});

describe("Shopify refunds/create", () => {
  const options = { ...shop, currencyCode: "USD", locations: { "24826418": "ST-1" } };

  it("is a refund payment of its successful transactions over the refunded lines, when nothing is restocked", () => {
    const refund = shopifyRefundToChanges(sample("refunds-create.webhook.docs-example.json"), options);
    expect(refund).toMatchObject({ refundId: "890088186047892319", cancel: [] });
    expect(refund.returned).toBeUndefined();
    expect(refund.payment).toMatchObject({
      paymentEventId: "shopify:jsmith.myshopify.com:refund:890088186047892319",
      type: PaymentEventType.REFUND,
      outcome: PaymentOutcome.APPROVED,
      // 75.00 + 10.00 refunded; the line subtotals (369.97) are what the lines were worth, not the money.
      amount: { currencyCode: "USD", minorUnits: 8_500n },
      paymentMethod: "bogus",
      provider: "shopify",
      lineIds: ["487817672276298554", "976318377106520349", "315789986012684393"],
      reason: "Things were damaged",
    });
  });

  it("cancels lines refunded before fulfilment and returns restocked ones at the mapped location", () => {
    const body = sample("refunds-create.webhook.docs-example.json");
    const items = body.refund_line_items as Array<Record<string, unknown>>;
    const restocked = {
      ...body,
      refund_line_items: [
        { ...items[0], restock_type: "cancel" },
        { ...items[1], restock_type: "return", location_id: 24826418 },
        items[2],
      ],
      transactions: [],
    };
    const refund = shopifyRefundToChanges(restocked, options);
    expect(refund.cancel.map((l) => [l.lineId, l.quantity])).toEqual([["487817672276298554", 1n]]);
    expect(refund.returned).toMatchObject({
      locationId: "ST-1",
      lines: [{ lineId: "976318377106520349", quantity: 1n, condition: ReturnCondition.RESTOCK }],
    });
    // No money moved (a refund of goods only): no payment event.
    expect(refund.payment).toBeUndefined();
  });

  it("refuses, before anything is applied, a restock at an unmapped location, a foreign currency and bad lines", () => {
    const body = sample("refunds-create.webhook.docs-example.json");
    const items = body.refund_line_items as Array<Record<string, unknown>>;
    const transactions = body.transactions as Array<Record<string, unknown>>;
    const bad = {
      ...body,
      refund_line_items: [
        { ...items[0], restock_type: "return", location_id: 99 },
        { ...items[1], quantity: 0 },
        { ...items[2], restock_type: "melt" },
      ],
      transactions: [
        { ...transactions[0], currency: "EUR" },
        { ...transactions[1], amount: "ten" },
      ],
    };
    expect(violations(() => shopifyRefundToChanges(bad, options))).toEqual([
      "refund_line_items[0].location_id: names no location of the mesh (99): map it in the shop's locations",
      "refund_line_items[1].quantity: must be a positive integer",
      "refund_line_items[2].restock_type: must be no_restock, cancel, return or legacy_restock",
      "transactions[0].currency: must be the order's currency USD",
      'transactions[1].amount: "ten" is not a decimal amount',
    ]);
    expect(violations(() => shopifyRefundToChanges({ ...body, order_id: null }, options))).toEqual([
      "order_id: is required",
    ]);
  });
});

describe("Shopify orders/fulfilled", () => {
  // The real orders/create sample, fulfilled: a fulfillment of its first line item as Shopify's
  // Fulfillment resource describes one (status, tracking, location, line items).
  const fulfilled = () => {
    const order = parseLosslessJson(
      readFileSync(
        new URL("../../test/fixtures/shopify/orders-create.webhook.json", import.meta.url),
        "utf8",
      ),
    ) as Record<string, unknown>;
    const [first] = order.line_items as Array<Record<string, unknown>>;
    order.fulfillments = [
      {
        id: 255858046,
        admin_graphql_api_id: "gid://shopify/Fulfillment/255858046",
        status: "success",
        location_id: 24826418,
        tracking_company: "UPS",
        tracking_number: "1Z2345",
        tracking_numbers: ["1Z2345"],
        created_at: "2026-11-27T10:00:00-05:00",
        line_items: [first],
      },
      {
        id: 255858047,
        admin_graphql_api_id: "gid://shopify/Fulfillment/255858047",
        status: "cancelled",
        line_items: [first],
      },
    ];
    return order;
  };

  it("makes each successful fulfillment a shipment of its line items from the mapped location", () => {
    const [one, ...rest] = shopifyFulfillmentsToShipments(fulfilled(), { locations: { "24826418": "DC-1" } });
    expect(rest).toEqual([]);
    expect(one?.fulfillmentId).toBe("255858046");
    expect(one?.shipment).toMatchObject({
      shipmentId: "shopify-fulfillment-255858046",
      lines: [{ lineId: "866550311766439020", quantity: 1n }],
      carrier: "UPS",
      trackingNumber: "1Z2345",
      fromLocationId: "DC-1",
    });
    expect(one?.shipment.shipTime && timestampDate(one.shipment.shipTime).toISOString()).toBe(
      "2026-11-27T15:00:00.000Z",
    );
  });

  it("names a location the shop has not mapped and a line item without a quantity", () => {
    const order = fulfilled();
    (
      (order.fulfillments as Array<{ line_items: Array<Record<string, unknown>> }>)[0]?.line_items[0] ?? {}
    ).quantity = 0;
    expect(violations(() => shopifyFulfillmentsToShipments(order, { locations: {} }))).toEqual([
      "fulfillments[0].location_id: names no location of the mesh (24826418): map it in the shop's locations",
      "fulfillments[0].line_items[0].quantity: must be a positive integer",
    ]);
  });
});

describe("shopifyOrderView", () => {
  const order = (fields: Record<string, unknown>) => ({ updated_at: "2026-11-27T10:00:00-05:00", ...fields });
  it("reads what the storefront shows in the mesh's statuses, as of the order's update time", () => {
    expect(shopifyOrderView(order({ fulfillment_status: null }))).toEqual({
      status: OrderStatus.ACCEPTED,
      observed: timestampFromDate(new Date("2026-11-27T15:00:00Z")),
    });
    expect(shopifyOrderView(order({ fulfillment_status: "partial" }))?.status).toBe(
      OrderStatus.PARTIALLY_FULFILLED,
    );
    expect(shopifyOrderView(order({ fulfillment_status: "fulfilled" }))?.status).toBe(OrderStatus.FULFILLED);
    expect(shopifyOrderView(order({ fulfillment_status: "restocked" }))?.status).toBe(OrderStatus.RETURNED);
    expect(
      shopifyOrderView(order({ fulfillment_status: "fulfilled", cancelled_at: "2026-11-27T11:00:00-05:00" }))
        ?.status,
    ).toBe(OrderStatus.CANCELLED);
  });
  it("reports nothing rather than guess an undocumented status or a time it cannot read", () => {
    expect(shopifyOrderView(order({ fulfillment_status: "on_the_moon" }))).toBeUndefined();
    expect(shopifyOrderView({ fulfillment_status: null, updated_at: "yesterday" })).toBeUndefined();
  });
});

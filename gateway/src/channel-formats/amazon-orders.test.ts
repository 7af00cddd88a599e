import { readFileSync } from "node:fs";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import { refusals as violations } from "@retail/platform/testing";
import { describe, expect, it } from "vitest";
import { amazonOrderToSubmit } from "./amazon-orders.js";
import { parseLosslessJson } from "./lossless-json.js";

const fixtures = new URL("../../test/fixtures/amazon/", import.meta.url);
const sample = (name: string) =>
  parseLosslessJson(readFileSync(new URL(name, fixtures), "utf8")) as Record<string, unknown> & {
    payload: Record<string, unknown>;
  };
const options = { channelId: "amazon-us", sourceSystem: "amazon" };
/** The address an order pulled with a restricted data token carries (the sandbox sample has none). */
const shippingAddress = {
  Name: "Jane Buyer",
  AddressLine1: "410 Terry Ave N",
  City: "SEATTLE",
  StateOrRegion: "WA",
  PostalCode: "98109",
  CountryCode: "US",
};

describe("Amazon SP-API orders", () => {
  it("maps getOrder and getOrderItems (the API's sandbox answers) to a marketplace order with exact money", () => {
    const order = sample("sp-api-getOrder.sandbox-response.json");
    order.payload.ShippingAddress = shippingAddress;
    const submit = amazonOrderToSubmit(order, sample("sp-api-getOrderItems.sandbox-response.json"), options);
    expect(submit).toMatchObject({
      channel: Channel.MARKETPLACE,
      channelId: "amazon-us",
      channelOrderId: "902-1845936-5435065",
      currencyCode: "USD",
      customer: { sourceSystem: "amazon", sourceId: "amazon-order-902-1845936-5435065" },
      lines: [
        {
          lineId: "05015851154158",
          sku: "NABetaASINB00551Q3CS",
          quantity: 1n,
          unitPrice: { currencyCode: "USD", minorUnits: 1000n },
          discount: { minorUnits: 0n },
          chargedTax: { minorUnits: 101n },
        },
      ],
      shipTo: { locality: "SEATTLE", administrativeArea: "WA", regionCode: "US", lines: ["410 Terry Ave N"] },
    });
    expect(submit.placeTime && timestampDate(submit.placeTime).toISOString()).toBe(
      "1970-01-19T03:58:30.000Z",
    );
  });

  it("refuses, naming each field, what it cannot take: no address, Amazon-fulfilled, pending, another order's items", () => {
    const order = sample("sp-api-getOrder.sandbox-response.json");
    const items = sample("sp-api-getOrderItems.sandbox-response.json");
    expect(violations(() => amazonOrderToSubmit(order, items, options))).toEqual([
      "order.payload.ShippingAddress: is required: pull the order with a restricted data token for the buyer's address",
    ]);
    order.payload = {
      ...order.payload,
      ShippingAddress: shippingAddress,
      FulfillmentChannel: "AFN",
      OrderStatus: "Pending",
    };
    items.payload = { ...items.payload, AmazonOrderId: "111-0000000-0000000" };
    expect(violations(() => amazonOrderToSubmit(order, items, options))).toEqual([
      "orderItems.payload.AmazonOrderId: must be the order's (902-1845936-5435065): the items of another order were sent",
      "order.payload.OrderStatus: is Pending: only orders released for shipping (Unshipped, PartiallyShipped) are taken",
      "order.payload.FulfillmentChannel: must be MFN: orders Amazon fulfils (AFN) do not take the retailer's stock",
    ]);
  });

  it("divides ItemPrice, a total for the quantity, into the unit price, and refuses one that does not divide", () => {
    const order = sample("sp-api-getOrder.sandbox-response.json");
    order.payload.ShippingAddress = shippingAddress;
    const items = sample("sp-api-getOrderItems.sandbox-response.json");
    const [item] = items.payload.OrderItems as Array<Record<string, unknown>>;
    items.payload.OrderItems = [
      { ...item, QuantityOrdered: 4, ItemPrice: { CurrencyCode: "USD", Amount: "40.00" } },
    ];
    expect(amazonOrderToSubmit(order, items, options).lines[0]?.unitPrice?.minorUnits).toBe(1000n);
    items.payload.OrderItems = [
      { ...item, QuantityOrdered: 3, ItemPrice: { CurrencyCode: "USD", Amount: "10.00" } },
    ];
    expect(violations(() => amazonOrderToSubmit(order, items, options))).toEqual([
      "orderItems.payload.OrderItems[0].ItemPrice: is not a whole number of minor units per unit (1000 for 3)",
    ]);
  });
});

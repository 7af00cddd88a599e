import { readFileSync } from "node:fs";
import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import { decimalToMinorUnits } from "@retail/platform/money";
import { RequestInvalid } from "@retail/platform/rpc";
import { describe, expect, it } from "vitest";
import { parseLosslessJson } from "./lossless-json.js";
import { shopifyOrderToSubmit, verifyShopifyHmac } from "./shopify.js";

const fixtures = new URL("../../test/fixtures/shopify/", import.meta.url);
const body = readFileSync(new URL("orders-create.webhook.json", fixtures));
const vector = JSON.parse(readFileSync(new URL("hmac-test-vector.json", fixtures), "utf8")) as {
  secret: string;
  headers: Record<string, string>;
};

describe("Shopify orders/create", () => {
  it("verifies the webhook HMAC over the exact body bytes", () => {
    expect(verifyShopifyHmac(body, vector.headers["X-Shopify-Hmac-Sha256"], vector.secret)).toBe(true);
    const tampered = Buffer.from(body.toString("utf8").replace('"398.00"', '"1.00"'));
    expect(verifyShopifyHmac(tampered, vector.headers["X-Shopify-Hmac-Sha256"], vector.secret)).toBe(false);
    expect(verifyShopifyHmac(body, vector.headers["X-Shopify-Hmac-Sha256"], "another-secret")).toBe(false);
    expect(verifyShopifyHmac(body, undefined, vector.secret)).toBe(false);
  });

  it("keeps 18-digit ids exact where JSON.parse rounds them", () => {
    expect((JSON.parse(body.toString("utf8")) as { id: number }).id).toBe(820982911946154500);
    expect((parseLosslessJson(body.toString("utf8")) as { id: string }).id).toBe("820982911946154508");
  });

  it("maps the order to SubmitOrder with exact money", () => {
    const order = parseLosslessJson(body.toString("utf8")) as Record<string, unknown>;
    const request = shopifyOrderToSubmit(order, { channelId: "web", sourceSystem: "shopify-web" });
    expect(request).toMatchObject({
      channel: Channel.WEB,
      channelId: "web",
      channelOrderId: "820982911946154508",
      currencyCode: "USD",
      customer: {
        sourceSystem: "shopify-web",
        sourceId: "115310627314723954",
        email: "john@example.com",
        givenName: "John",
        familyName: "Smith",
      },
      shipTo: {
        lines: ["123 Shipping Street"],
        locality: "Shippington",
        administrativeArea: "KY",
        postalCode: "40003",
        regionCode: "US",
        recipient: "Steve Shipper",
      },
      orderDiscount: { currencyCode: "USD", minorUnits: 500n },
      shippingCharge: { currencyCode: "USD", minorUnits: 1_000n },
    });
    expect(
      request.lines.map((l) => [
        l.lineId,
        l.sku,
        l.quantity,
        l.unitPrice?.minorUnits,
        l.discount?.minorUnits,
      ]),
    ).toEqual([
      ["866550311766439020", "IPOD2008PINK", 1n, 19_900n, 0n],
      ["141249953214522974", "IPOD2008PINK", 1n, 19_900n, 0n],
    ]);
    expect(request.placeTime?.seconds).toBe(BigInt(Date.parse("2022-01-01T00:00:00Z") / 1000));
    // The sample charged no tax on its lines: the mesh computes it.
    expect(request.lines.map((l) => l.chargedTax)).toEqual([undefined, undefined]);
  });

  it("passes the tax Shopify charged on a line as the line's charged tax", () => {
    const order = parseLosslessJson(body.toString("utf8")) as { line_items: Array<Record<string, unknown>> };
    const [first] = order.line_items;
    if (!first) throw new Error("the sample has line items");
    first.tax_lines = [
      { title: "KY State Tax", price: "11.94", rate: 0.06 },
      { title: "County Tax", price: "0.50", rate: 0.0025 },
    ];
    const request = shopifyOrderToSubmit(order, { channelId: "web", sourceSystem: "shopify-web" });
    expect(request.lines[0]?.chargedTax).toMatchObject({ currencyCode: "USD", minorUnits: 1_244n });
    expect(request.lines[1]?.chargedTax).toBeUndefined();
  });

  it("names every field it cannot use", () => {
    const order = {
      id: 1,
      currency: "USD",
      created_at: "yesterday",
      line_items: [{ quantity: 0, price: "1.999" }],
    };
    let violations: readonly { field: string }[] = [];
    try {
      shopifyOrderToSubmit(order, { channelId: "web", sourceSystem: "shopify-web" });
    } catch (error) {
      if (error instanceof RequestInvalid) violations = error.violations;
    }
    expect(violations.map((v) => v.field)).toEqual([
      "line_items[0].sku",
      "line_items[0].quantity",
      "line_items[0].price",
      "created_at",
    ]);
  });
});

describe("decimal amounts", () => {
  it("converts by string arithmetic to the currency's minor units", () => {
    expect(decimalToMinorUnits("199.00", "USD")).toBe(19_900n);
    expect(decimalToMinorUnits("0.1", "USD")).toBe(10n);
    expect(decimalToMinorUnits("-2.5", "EUR")).toBe(-250n);
    expect(decimalToMinorUnits("1500", "JPY")).toBe(1_500n);
    expect(decimalToMinorUnits("1.234", "BHD")).toBe(1_234n);
    expect(decimalToMinorUnits("92233720368547758.07", "USD")).toBe(9_223_372_036_854_775_807n);
    expect(() => decimalToMinorUnits("19.999", "USD")).toThrow(/more decimals than USD/);
    expect(() => decimalToMinorUnits("1e3", "USD")).toThrow(/not a decimal amount/);
  });
});

// JSON bodies the gateway tests send, in protobuf's JSON mapping (enums by name, int64 as text).
import { readFileSync } from "node:fs";
import { uniqueName } from "@retail/platform/testing";

export const usd = (minorUnits: number) => ({ currencyCode: "USD", minorUnits: String(minorUnits) });

/** A goods receipt of `quantity` units of a SKU at a location (POST /v1/movements). */
export function receiptJson(sku: string, locationId: string, quantity: number) {
  return {
    movementId: uniqueName("rcv"),
    type: "MOVEMENT_TYPE_GOODS_RECEIPT",
    sku,
    locationId,
    quantity: String(quantity),
  };
}

/** A one-line order shipped to New York (POST /v1/orders); `line` overrides the line's fields. */
export function orderJson(
  sku: string,
  options: { quantity?: number; channel?: string; channelId?: string; line?: Record<string, string> } = {},
) {
  const n = uniqueName("o");
  return {
    channel: options.channel ?? "CHANNEL_WEB",
    channelId: options.channelId ?? "web",
    channelOrderId: n,
    currencyCode: "USD",
    customer: {
      sourceSystem: "shopify-web",
      sourceId: `acct-${n}`,
      email: `${n}@example.com`,
      familyName: "Rest",
    },
    shipTo: { lines: ["1 Main St"], administrativeArea: "NY", regionCode: "US", postalCode: "10001" },
    lines: [
      {
        lineId: "1",
        sku,
        quantity: String(options.quantity ?? 1),
        unitPrice: usd(2_500),
        fulfillmentType: "FULFILLMENT_TYPE_SHIP",
        ...options.line,
      },
    ],
    shippingCharge: usd(500),
  };
}

/** The columns of Amazon's settlement flat file V1 (from the sample), and a row of them with the named cells set. */
export const settlementColumns = (
  readFileSync(new URL("./fixtures/amazon/settlement-flatfile-v1.mws-rs.tsv", import.meta.url), "utf8").split(
    "\n",
  )[0] ?? ""
).split("\t");
export const settlementRow = (cells: Record<string, string>) =>
  settlementColumns.map((c) => cells[c] ?? "").join("\t");

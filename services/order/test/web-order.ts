// The web order most tests submit: a new shopper, shipped to New York, one line unless overridden.
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import { FulfillmentType } from "@retail/contracts/retail/order/v1/order_pb";
import type { SubmitOrderRequestSchema } from "@retail/contracts/retail/order/v1/order_service_pb";
import { uniqueName } from "@retail/platform/testing";

export const usd = (minorUnits: bigint) => ({ currencyCode: "USD", minorUnits });
export const shipTo = {
  lines: ["1 Main St"],
  locality: "New York",
  administrativeArea: "NY",
  postalCode: "10001",
  regionCode: "US",
};
export type Submit = MessageInitShape<typeof SubmitOrderRequestSchema>;

/** A web order for a new shopper; `lines` override the default single shipped line. */
export function webOrder(sku: string, overrides: Partial<Record<keyof Submit, unknown>> = {}): Submit {
  const n = uniqueName("o");
  return {
    requestId: n,
    channel: Channel.WEB,
    channelId: "web",
    channelOrderId: n,
    currencyCode: "USD",
    customer: {
      sourceSystem: "shopify-web",
      sourceId: `acct-${n}`,
      email: `${n}@example.com`,
      givenName: "Ada",
      familyName: "Shopper",
    },
    shipTo,
    lines: [{ lineId: "1", sku, quantity: 1n, unitPrice: usd(1999n), fulfillmentType: FulfillmentType.SHIP }],
    ...overrides,
  } as Submit;
}

/** One line shipped from a store, at 7.00 a unit. */
export function storeLine(sku: string, quantity: bigint, storeId: string) {
  return {
    lineId: "1",
    sku,
    quantity,
    unitPrice: usd(700n),
    fulfillmentType: FulfillmentType.SHIP_FROM_STORE,
    fulfillmentLocationId: storeId,
  };
}

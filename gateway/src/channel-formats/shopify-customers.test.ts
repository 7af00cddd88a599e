import { readFileSync } from "node:fs";
import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import { ConsentPurpose, ConsentStatus } from "@retail/contracts/retail/customer/v1/customer_pb";
import { RequestInvalid } from "@retail/platform/rpc";
import { describe, expect, it } from "vitest";
import { parseLosslessJson } from "./lossless-json.js";
import { shopifyCustomerToSource } from "./shopify-customers.js";

// The customer object of Shopify's real orders/create sample: the same resource customers/* send.
const sample = () =>
  (
    parseLosslessJson(
      readFileSync(
        new URL("../../test/fixtures/shopify/orders-create.webhook.json", import.meta.url),
        "utf8",
      ),
    ) as { customer: Record<string, unknown> }
  ).customer;

describe("Shopify customers as identity's source records", () => {
  it("maps the real sample's customer, its id exact from the gid, its default address and no consent without a time", () => {
    const mapped = shopifyCustomerToSource(sample(), { sourceSystem: "shopify-web" });
    expect(mapped.customerId).toBe("115310627314723954");
    expect(mapped.record).toMatchObject({
      sourceSystem: "shopify-web",
      sourceId: "115310627314723954",
      email: "john@example.com",
      phone: "",
      givenName: "John",
      familyName: "Smith",
      addresses: [
        {
          lines: ["123 Elm St."],
          locality: "Ottawa",
          administrativeArea: "ON",
          postalCode: "K2H7A8",
          regionCode: "CA",
        },
      ],
    });
    // The sample's email consent is not_subscribed with no time: it cannot be ordered, so it says nothing.
    expect(mapped.consents).toEqual([]);
    expect(mapped.record.observedTime).toBeUndefined();
  });

  it("turns marketing consents with a time into statements: subscribed grants, unsubscribed denies, pending says nothing", () => {
    const customer = {
      ...sample(),
      updated_at: "2026-11-20T10:00:00-05:00",
      email_marketing_consent: { state: "subscribed", consent_updated_at: "2026-11-19T09:00:00Z" },
      sms_marketing_consent: { state: "unsubscribed", consent_updated_at: null },
      addresses: [
        {
          address1: "1 Main St",
          address2: "Apt 2",
          city: "Albany",
          province_code: "NY",
          zip: "12207",
          country_code: "us",
          name: "J S",
        },
      ],
    };
    const mapped = shopifyCustomerToSource(customer, { sourceSystem: "shopify-web" });
    expect(mapped.observed).toBe("2026-11-20T10:00:00-05:00");
    expect(mapped.record.observedTime?.seconds).toBe(BigInt(Date.parse("2026-11-20T15:00:00Z") / 1000));
    expect(mapped.record.addresses).toEqual([
      expect.objectContaining({ lines: ["1 Main St", "Apt 2"], regionCode: "US", recipient: "J S" }),
    ]);
    expect(mapped.consents.map((c) => [c.purpose, c.status, c.channel, c.changeTime?.seconds])).toEqual([
      [
        ConsentPurpose.MARKETING_EMAIL,
        ConsentStatus.GRANTED,
        Channel.WEB,
        BigInt(Date.parse("2026-11-19T09:00:00Z") / 1000),
      ],
      [
        ConsentPurpose.MARKETING_SMS,
        ConsentStatus.DENIED,
        Channel.WEB,
        BigInt(Date.parse("2026-11-20T15:00:00Z") / 1000),
      ],
    ]);
    const pending = {
      ...customer,
      email_marketing_consent: { state: "pending", consent_updated_at: "2026-11-19T09:00:00Z" },
    };
    expect(shopifyCustomerToSource(pending, { sourceSystem: "s" }).consents.map((c) => c.purpose)).toEqual([
      ConsentPurpose.MARKETING_SMS,
    ]);
  });

  it("names the id when there is none", () => {
    const { id: _id, admin_graphql_api_id: _gid, ...anonymous } = sample();
    expect(() => shopifyCustomerToSource(anonymous, { sourceSystem: "s" })).toThrow(RequestInvalid);
  });
});

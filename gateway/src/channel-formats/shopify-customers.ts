// Shopify's customers/create and customers/update webhooks as a source record of customer-identity
// (UpsertFromSource) and the customer's marketing consents (UpdateConsent). The record is keyed by the
// shop's source system and Shopify's customer id; `updated_at` is when Shopify observed it, so an
// update that arrives after a newer one changes nothing (identity keeps the newest observation).
// Consent follows Shopify's email_marketing_consent and sms_marketing_consent: `subscribed` grants,
// `unsubscribed`, `not_subscribed` and `redacted` deny, `pending` (double opt-in unanswered) says
// nothing yet; a state without a time says nothing either (it cannot be ordered against others).
// https://shopify.dev/docs/api/admin-rest/latest/resources/webhook (customers/create, customers/update)
import { create } from "@bufbuild/protobuf";
import { type Timestamp, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Channel, PostalAddressSchema } from "@retail/contracts/retail/common/v1/common_pb";
import {
  type Consent,
  ConsentPurpose,
  ConsentSchema,
  ConsentStatus,
  type SourceRecord,
  SourceRecordSchema,
} from "@retail/contracts/retail/customer/v1/customer_pb";
import { RequestInvalid } from "@retail/platform/rpc";
import { type Json, list, object, text } from "./json-fields.js";
import { shopifyId } from "./shopify-order-updates.js";

function time(value: unknown): Timestamp | undefined {
  const date = new Date(text(value) ?? "");
  return Number.isNaN(date.getTime()) ? undefined : timestampFromDate(date);
}

const consentStates: Readonly<Record<string, ConsentStatus>> = {
  subscribed: ConsentStatus.GRANTED,
  unsubscribed: ConsentStatus.DENIED,
  not_subscribed: ConsentStatus.DENIED,
  redacted: ConsentStatus.DENIED,
};

function addressOf(address: Json) {
  const name = [text(address.first_name), text(address.last_name)].filter(Boolean).join(" ");
  return create(PostalAddressSchema, {
    lines: [text(address.address1), text(address.address2)].filter((l): l is string => !!l),
    locality: text(address.city) ?? "",
    administrativeArea: text(address.province_code) ?? "",
    postalCode: text(address.zip) ?? "",
    regionCode: (text(address.country_code) ?? "").toUpperCase(),
    recipient: text(address.name) || name,
  });
}

/** A customers/create or customers/update payload (parsed losslessly) as identity's calls. */
export function shopifyCustomerToSource(
  customer: Json,
  options: { sourceSystem: string },
): { customerId: string; observed: string; record: SourceRecord; consents: Consent[] } {
  const customerId = shopifyId(customer, "Customer");
  if (!customerId || !/^\d+$/.test(customerId))
    throw new RequestInvalid([{ field: "id", description: "is required: Shopify's customer id" }]);
  const observedTime = time(customer.updated_at) ?? time(customer.created_at);
  const addresses = list(customer.addresses);
  const record = create(SourceRecordSchema, {
    sourceSystem: options.sourceSystem,
    sourceId: customerId,
    email: text(customer.email) ?? "",
    phone: text(customer.phone) ?? "",
    givenName: text(customer.first_name) ?? "",
    familyName: text(customer.last_name) ?? "",
    addresses: (addresses.length > 0
      ? addresses
      : customer.default_address
        ? [object(customer.default_address)]
        : []
    ).map(addressOf),
    ...(observedTime && { observedTime }),
  });
  const consents: Consent[] = [];
  for (const [field, purpose] of [
    ["email_marketing_consent", ConsentPurpose.MARKETING_EMAIL],
    ["sms_marketing_consent", ConsentPurpose.MARKETING_SMS],
  ] as const) {
    const consent = object(customer[field]);
    const status = consentStates[text(consent.state) ?? ""];
    const changeTime = time(consent.consent_updated_at) ?? observedTime;
    if (status === undefined || !changeTime) continue;
    consents.push(
      create(ConsentSchema, {
        purpose,
        channel: Channel.WEB,
        status,
        sourceSystem: options.sourceSystem,
        changeTime,
      }),
    );
  }
  return {
    customerId,
    observed: text(customer.updated_at) ?? text(customer.created_at) ?? "",
    record,
    consents,
  };
}

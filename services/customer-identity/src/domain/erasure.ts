import { clone } from "@bufbuild/protobuf";
import {
  type BillingAccount,
  BillingAccountSchema,
  type Customer,
  CustomerSchema,
  type SourceRecord,
  SourceRecordSchema,
} from "@retail/contracts/retail/customer/v1/customer_pb";
import type { CustomerEvent } from "./customer.js";

/** What an erased value is replaced with where a field cannot simply be emptied (ids that must stay unique). */
export const erasedMarker = "[erased]";

/** Empties the personal fields a source record and a customer share. */
function blankContact<
  T extends Pick<Customer, "email" | "phone" | "givenName" | "familyName" | "loyaltyNumber" | "addresses">,
>(holder: T): T {
  holder.email = "";
  holder.phone = "";
  holder.givenName = "";
  holder.familyName = "";
  holder.loyaltyNumber = "";
  holder.addresses = [];
  return holder;
}

function redactRecord(record: SourceRecord | undefined): SourceRecord | undefined {
  if (!record) return undefined;
  const redacted = blankContact(clone(SourceRecordSchema, record));
  redacted.sourceId = erasedMarker;
  return redacted;
}

function redactAccount(account: BillingAccount | undefined): BillingAccount | undefined {
  if (!account) return undefined;
  const redacted = clone(BillingAccountSchema, account);
  for (const taxId of redacted.taxIds) taxId.value = erasedMarker;
  return redacted;
}

function redactCustomer(customer: Customer | undefined): Customer | undefined {
  if (!customer) return undefined;
  const redacted = blankContact(clone(CustomerSchema, customer));
  for (const link of redacted.sourceLinks) link.sourceId = erasedMarker;
  redacted.billingAccounts = redacted.billingAccounts.flatMap((a) => redactAccount(a) ?? []);
  return redacted;
}

/**
 * An event of an erased customer's stream with its personal data removed: names, contacts, addresses,
 * loyalty and source ids, tax ids and free-text reasons. Ids of customers (pseudonymous), source system
 * names, statuses, consents, times and the billing account link stay, so finance and audit keep a trail
 * that no longer says who the person was.
 */
export function redactEvent(event: CustomerEvent): CustomerEvent {
  switch (event.$typeName) {
    case "retail.customer.v1.CustomerCreated":
    case "retail.customer.v1.CustomerUpdated":
      return { ...event, customer: redactCustomer(event.customer) };
    case "retail.customer.v1.SourceRecordLinked":
      return {
        ...event,
        sourceRecord: redactRecord(event.sourceRecord),
        sourceLink: event.sourceLink ? { ...event.sourceLink, sourceId: erasedMarker } : undefined,
      };
    case "retail.customer.v1.SourceRecordUpdated":
      return { ...event, sourceRecord: redactRecord(event.sourceRecord) };
    case "retail.customer.v1.BillingAccountLinked":
      return { ...event, billingAccount: redactAccount(event.billingAccount) };
    case "retail.customer.v1.CustomerDeactivated":
      return { ...event, reason: "" };
    default:
      return event;
  }
}

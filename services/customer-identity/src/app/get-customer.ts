import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type Customer, CustomerSchema } from "@retail/contracts/retail/customer/v1/customer_pb";
import { effectiveConsents } from "../domain/consent.js";
import type { CustomerDeps } from "./ports.js";
import { loadProfile, type Profile, requireRoot } from "./profile.js";

/** The golden customer message of a profile. */
export function toCustomer(profile: Profile): Customer {
  const { root, members, sources, golden } = profile;
  return create(CustomerSchema, {
    customerId: root.customerId,
    status: root.status,
    email: golden.email,
    phone: golden.phone,
    givenName: golden.givenName,
    familyName: golden.familyName,
    loyaltyNumber: golden.loyaltyNumber,
    addresses: [...golden.addresses],
    attributeSources: { ...golden.winners },
    sourceLinks: sources
      .map((s) => ({
        sourceSystem: s.record.sourceSystem,
        sourceId: s.record.sourceId,
        linkTime: timestampFromDate(s.linkedAt),
      }))
      .sort((a, b) => `${a.sourceSystem}:${a.sourceId}`.localeCompare(`${b.sourceSystem}:${b.sourceId}`)),
    consents: effectiveConsents(members.flatMap((m) => m.consentChanges)).map((c) => ({
      purpose: c.purpose,
      channel: c.channel,
      status: c.status,
      sourceSystem: c.sourceSystem,
      changeTime: timestampFromDate(c.changedAt),
    })),
    billingAccounts: members.flatMap((m) => [...m.billingAccounts.values()]),
    mergedIntoCustomerId: root.mergedInto,
    version: BigInt(root.version),
    createTime: timestampFromDate(root.createdAt),
    updateTime: timestampFromDate(new Date(Math.max(...members.map((m) => m.updatedAt.getTime())))),
  });
}

/** The view of a customer id as callers see it (a merged-away id shows its survivor). */
export async function getCustomer(deps: CustomerDeps, customerId: string): Promise<Customer> {
  return toCustomer(await loadProfile(deps, await requireRoot(deps, customerId)));
}

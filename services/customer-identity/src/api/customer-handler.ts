import type { ServiceImpl } from "@connectrpc/connect";
import {
  type CustomerIdentityService,
  DeactivateCustomerRequestSchema,
  EraseCustomerRequestSchema,
  LinkBillingAccountRequestSchema,
  type LookupCustomerRequest,
  MergeCustomersRequestSchema,
  UnmergeCustomerRequestSchema,
  UpdateConsentRequestSchema,
  UpsertFromSourceRequestSchema,
} from "@retail/contracts/retail/customer/v1/customer_service_pb";
import { checkPageRequest, requestOf } from "@retail/platform/store";
import { deactivateCustomer, eraseCustomer } from "../app/customer-lifecycle.js";
import { getCustomer } from "../app/get-customer.js";
import { linkBillingAccount } from "../app/link-billing-account.js";
import { lookupCustomer } from "../app/lookup-customer.js";
import { mergeCustomers, unmergeCustomer } from "../app/merge-customers.js";
import type { CustomerDeps } from "../app/ports.js";
import { updateConsent } from "../app/update-consent.js";
import { upsertFromSource } from "../app/upsert-from-source.js";
import {
  type MatchKey,
  matchKey,
  normalizeEmail,
  normalizeLoyaltyNumber,
  normalizePhone,
  sourceKey,
} from "../domain/match-keys.js";
import {
  checkBillingAccount,
  checkConsent,
  checkCustomerId,
  checkSourceRecord,
  checkSourceSystem,
  Violations,
} from "./validation.js";

const defaultPageSize = 50;
const maxPageSize = 500;

/** The one key a lookup names, normalised as records are, or the violations that explain why not. */
function lookupKey(
  v: Violations,
  request: LookupCustomerRequest,
  deps: CustomerDeps,
  region: string,
): MatchKey | undefined {
  const { key } = request;
  switch (key.case) {
    case "email": {
      const email = normalizeEmail(key.value);
      if (!email) v.add("email", "must be an email address such as name@example.com");
      return email ? matchKey("email", email) : undefined;
    }
    case "phone": {
      const phone = normalizePhone(key.value, region);
      if (!phone) v.add("phone", `must be a valid phone number (+country code, or national in ${region})`);
      return phone ? matchKey("phone", phone) : undefined;
    }
    case "loyaltyNumber": {
      const loyalty = normalizeLoyaltyNumber(key.value);
      if (!loyalty) v.add("loyalty_number", "must be 4-32 letters or digits");
      return loyalty ? matchKey("loyalty_number", loyalty) : undefined;
    }
    case "source":
      checkSourceSystem(v, "source.source_system", key.value.sourceSystem, deps.sourceSystems);
      v.require("source.source_id", key.value.sourceId);
      return sourceKey(key.value.sourceSystem, key.value.sourceId);
    default:
      v.add("key", "exactly one of email, phone, loyalty_number or source is required");
      return undefined;
  }
}

/** CustomerIdentityService over Connect: request in, validated command, use case, response out. */
export function createCustomerHandler(
  deps: CustomerDeps,
  options: { lookupRegion: string },
): ServiceImpl<typeof CustomerIdentityService> {
  const withRequest = (v: Violations, requestId: string) => v.require("request_id", requestId);

  return {
    async upsertFromSource(request) {
      const v = new Violations();
      withRequest(v, request.requestId);
      checkSourceRecord(v, "source_record", request.sourceRecord, deps.sourceSystems);
      v.throwIfAny();
      if (!request.sourceRecord) throw new Error("validated above");
      const outcome = await upsertFromSource(deps, {
        request: requestOf(UpsertFromSourceRequestSchema, request),
        record: request.sourceRecord,
      });
      return outcome;
    },

    async getCustomer(request) {
      const v = new Violations();
      checkCustomerId(v, "customer_id", request.customerId);
      v.throwIfAny();
      return { customer: await getCustomer(deps, request.customerId) };
    },

    async lookupCustomer(request) {
      const v = new Violations();
      const key = lookupKey(v, request, deps, options.lookupRegion);
      v.throwIfAny();
      if (!key) throw new Error("validated above");
      return { customer: await lookupCustomer(deps, key) };
    },

    async listMergeCandidates(request) {
      const v = new Violations();
      const pageSize = checkPageRequest(v, request, { max: maxPageSize, default: defaultPageSize });
      v.throwIfAny();
      const page = await deps.candidates.listOpen(pageSize, request.pageToken);
      return { mergeCandidates: page.candidates, nextPageToken: page.nextPageToken };
    },

    async mergeCustomers(request) {
      const v = new Violations();
      withRequest(v, request.requestId);
      checkCustomerId(v, "survivor_customer_id", request.survivorCustomerId);
      if (v.require("merged_customer_ids", request.mergedCustomerIds)) {
        for (const [i, id] of request.mergedCustomerIds.entries())
          checkCustomerId(v, `merged_customer_ids[${i}]`, id);
      }
      v.throwIfAny();
      const customer = await mergeCustomers(deps, {
        request: requestOf(MergeCustomersRequestSchema, request),
        survivorId: request.survivorCustomerId,
        mergedIds: request.mergedCustomerIds,
        candidateId: request.mergeCandidateId,
      });
      return { customer };
    },

    async unmergeCustomer(request) {
      const v = new Violations();
      withRequest(v, request.requestId);
      checkCustomerId(v, "customer_id", request.customerId);
      checkCustomerId(v, "restored_customer_id", request.restoredCustomerId);
      v.throwIfAny();
      const { customer, restored } = await unmergeCustomer(deps, {
        request: requestOf(UnmergeCustomerRequestSchema, request),
        customerId: request.customerId,
        restoredId: request.restoredCustomerId,
      });
      return { customer, restoredCustomer: restored };
    },

    async updateConsent(request) {
      const v = new Violations();
      withRequest(v, request.requestId);
      checkCustomerId(v, "customer_id", request.customerId);
      checkConsent(v, "consent", request.consent, deps.sourceSystems);
      v.throwIfAny();
      if (!request.consent) throw new Error("validated above");
      const customer = await updateConsent(deps, {
        request: requestOf(UpdateConsentRequestSchema, request),
        customerId: request.customerId,
        consent: request.consent,
      });
      return { customer };
    },

    async linkBillingAccount(request) {
      const v = new Violations();
      withRequest(v, request.requestId);
      checkCustomerId(v, "customer_id", request.customerId);
      checkBillingAccount(v, "billing_account", request.billingAccount);
      v.throwIfAny();
      if (!request.billingAccount) throw new Error("validated above");
      const customer = await linkBillingAccount(deps, {
        request: requestOf(LinkBillingAccountRequestSchema, request),
        customerId: request.customerId,
        account: request.billingAccount,
      });
      return { customer };
    },

    async deactivateCustomer(request) {
      const v = new Violations();
      withRequest(v, request.requestId);
      checkCustomerId(v, "customer_id", request.customerId);
      v.throwIfAny();
      const customer = await deactivateCustomer(deps, {
        request: requestOf(DeactivateCustomerRequestSchema, request),
        customerId: request.customerId,
        reason: request.reason,
      });
      return { customer };
    },

    async eraseCustomer(request) {
      const v = new Violations();
      withRequest(v, request.requestId);
      checkCustomerId(v, "customer_id", request.customerId);
      v.throwIfAny();
      const customerId = await eraseCustomer(deps, {
        request: requestOf(EraseCustomerRequestSchema, request),
        customerId: request.customerId,
        reason: request.reason,
      });
      return { customerId };
    },
  };
}

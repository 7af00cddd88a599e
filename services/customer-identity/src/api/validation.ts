import { ChannelSchema } from "@retail/contracts/retail/common/v1/common_pb";
import {
  type BillingAccount,
  type Consent,
  ConsentPurposeSchema,
  ConsentStatusSchema,
  type SourceRecord,
} from "@retail/contracts/retail/customer/v1/customer_pb";
import { isCurrencyCode } from "@retail/platform/money";
import { Violations } from "@retail/platform/rpc";
import type { SourceDirectory } from "../domain/golden.js";
import { regionOf } from "../domain/golden.js";
import { normalizeEmail, normalizeLoyaltyNumber, normalizePhone } from "../domain/match-keys.js";

const regionPattern = /^[A-Z]{2}$/;
/** Source ids and customer ids: printable, no spaces or ":" (which joins keys), at most 128 chars. */
const idPattern = /^[^\s:]{1,128}$/;

function knownEnum(schema: { values: ReadonlyArray<{ number: number }> }, value: number): boolean {
  return value !== 0 && schema.values.some((v) => v.number === value);
}

export function checkSourceSystem(v: Violations, field: string, id: string, sources: SourceDirectory): void {
  if (v.require(field, id) && !sources(id)) v.add(field, `unknown source system ${id}`);
}

/**
 * A source record fit to resolve: a known source system, a source id, at least one identity attribute
 * (email, phone, loyalty number or a name), and every contact well formed.
 */
export function checkSourceRecord(
  v: Violations,
  field: string,
  r: SourceRecord | undefined,
  sources: SourceDirectory,
): void {
  if (!r) {
    v.add(field, "is required");
    return;
  }
  checkSourceSystem(v, `${field}.source_system`, r.sourceSystem, sources);
  if (v.require(`${field}.source_id`, r.sourceId) && !idPattern.test(r.sourceId)) {
    v.add(`${field}.source_id`, "must be 1-128 characters without spaces or ':'");
  }
  if (r.defaultRegionCode && !regionPattern.test(r.defaultRegionCode)) {
    v.add(`${field}.default_region_code`, "must be an ISO 3166-1 alpha-2 code such as US or GB");
  }
  if (!(r.email || r.phone || r.loyaltyNumber || r.givenName.trim() || r.familyName.trim())) {
    v.add(field, "must carry at least one of email, phone, loyalty_number, given_name or family_name");
  }
  if (r.email && !normalizeEmail(r.email))
    v.add(`${field}.email`, "must be an email address such as name@example.com");
  if (r.phone && !normalizePhone(r.phone, regionOf(r, sources))) {
    v.add(
      `${field}.phone`,
      `must be a valid phone number (international with +country code, or national in region ${regionOf(r, sources) || "unknown"})`,
    );
  }
  if (r.loyaltyNumber && !normalizeLoyaltyNumber(r.loyaltyNumber)) {
    v.add(`${field}.loyalty_number`, "must be 4-32 letters or digits (spaces and dashes ignored)");
  }
  r.addresses.forEach((a, i) => {
    if (a.regionCode && !regionPattern.test(a.regionCode)) {
      v.add(`${field}.addresses[${i}].region_code`, "must be an ISO 3166-1 alpha-2 code");
    }
  });
}

export function checkCustomerId(v: Violations, field: string, id: string): void {
  if (v.require(field, id) && !idPattern.test(id)) v.add(field, "must be a customer id");
}

export function checkConsent(
  v: Violations,
  field: string,
  c: Consent | undefined,
  sources: SourceDirectory,
): void {
  if (!c) {
    v.add(field, "is required");
    return;
  }
  if (!knownEnum(ConsentPurposeSchema, c.purpose))
    v.add(`${field}.purpose`, "must be a known consent purpose");
  if (!knownEnum(ChannelSchema, c.channel)) v.add(`${field}.channel`, "must be a known channel");
  if (!knownEnum(ConsentStatusSchema, c.status)) v.add(`${field}.status`, "must be GRANTED or DENIED");
  checkSourceSystem(v, `${field}.source_system`, c.sourceSystem, sources);
}

export function checkBillingAccount(v: Violations, field: string, a: BillingAccount | undefined): void {
  if (!a) {
    v.add(field, "is required");
    return;
  }
  if (v.require(`${field}.account_id`, a.accountId) && !idPattern.test(a.accountId)) {
    v.add(`${field}.account_id`, "must be 1-128 characters without spaces or ':'");
  }
  v.require(`${field}.erp_system`, a.erpSystem);
  if (a.creditLimit) {
    if (!isCurrencyCode(a.creditLimit.currencyCode)) {
      v.add(`${field}.credit_limit.currency_code`, "must be an ISO 4217 code such as USD");
    }
    if (a.creditLimit.minorUnits < 0n) v.add(`${field}.credit_limit.minor_units`, "must be zero or more");
  }
  a.taxIds.forEach((t, i) => {
    if (!regionPattern.test(t.regionCode))
      v.add(`${field}.tax_ids[${i}].region_code`, "must be an ISO 3166-1 alpha-2 code");
    v.require(`${field}.tax_ids[${i}].type`, t.type);
    v.require(`${field}.tax_ids[${i}].value`, t.value);
  });
}

export { Violations };

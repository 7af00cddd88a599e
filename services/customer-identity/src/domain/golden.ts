import type { PostalAddress } from "@retail/contracts/retail/common/v1/common_pb";
import type { SourceRecord } from "@retail/contracts/retail/customer/v1/customer_pb";
import { type CustomerState, type LinkedSource, observedAt } from "./customer.js";
import {
  type MatchKey,
  normalizeEmail,
  normalizeLoyaltyNumber,
  normalizePhone,
  recordKeys,
} from "./match-keys.js";
import { type GoldenAttribute, goldenAttributes, type SourceSystem, trustOf } from "./source-systems.js";

/** The best-known value of each attribute and the source system it came from. */
export interface GoldenRecord {
  readonly email: string;
  readonly phone: string;
  readonly givenName: string;
  readonly familyName: string;
  readonly loyaltyNumber: string;
  readonly addresses: readonly PostalAddress[];
  readonly winners: Readonly<Partial<Record<GoldenAttribute, string>>>;
}

export type SourceDirectory = (id: string) => SourceSystem | undefined;

/** The region a record's phone number is read in: its own, else its source system's. */
export function regionOf(record: SourceRecord, sources: SourceDirectory): string {
  return record.defaultRegionCode || sources(record.sourceSystem)?.defaultRegion || "";
}

/**
 * The keys a record is matched by, as its source system sends it: national phone numbers read in the
 * source's region, and no email key from a source that relays mail through masked addresses.
 */
export function keysOfRecord(record: SourceRecord, sources: SourceDirectory): MatchKey[] {
  const masked = sources(record.sourceSystem)?.masksEmails === true;
  return recordKeys(masked ? { ...record, email: "" } : record, regionOf(record, sources));
}

/** An attribute's normalised value in one record ("" or [] when the record has none). */
function attributeOf(record: SourceRecord, attribute: GoldenAttribute, sources: SourceDirectory) {
  switch (attribute) {
    case "email":
      if (sources(record.sourceSystem)?.masksEmails) return "";
      return record.email ? (normalizeEmail(record.email) ?? "") : "";
    case "phone":
      return record.phone ? (normalizePhone(record.phone, regionOf(record, sources)) ?? "") : "";
    case "given_name":
      return record.givenName.trim();
    case "family_name":
      return record.familyName.trim();
    case "loyalty_number":
      return record.loyaltyNumber ? (normalizeLoyaltyNumber(record.loyaltyNumber) ?? "") : "";
    case "addresses":
      return record.addresses;
  }
}

/** Every source record of a profile: its own and its merged-in customers' (newest observation of each). */
export function profileSources(members: readonly CustomerState[]): LinkedSource[] {
  const byKey = new Map<string, LinkedSource>();
  for (const member of members) {
    for (const [key, source] of member.sources) {
      const held = byKey.get(key);
      if (!held || observedAt(source) > observedAt(held)) byKey.set(key, source);
    }
  }
  return [...byKey.values()];
}

/**
 * Survivorship: per attribute, the value from the most trusted source that has one, ties broken by
 * the most recent observation, then by source key so the answer never depends on load order.
 */
export function goldenRecord(
  sourcesOfProfile: readonly LinkedSource[],
  sources: SourceDirectory,
): GoldenRecord {
  const winners: Partial<Record<GoldenAttribute, string>> = {};
  const values: Partial<Record<GoldenAttribute, string | readonly PostalAddress[]>> = {};
  for (const attribute of goldenAttributes) {
    let best: { source: LinkedSource; value: string | readonly PostalAddress[] } | undefined;
    for (const source of sourcesOfProfile) {
      const value = attributeOf(source.record, attribute, sources);
      if (value.length === 0) continue;
      if (!best || beats(source, best.source, attribute, sources)) best = { source, value };
    }
    if (best) {
      values[attribute] = best.value;
      winners[attribute] = best.source.record.sourceSystem;
    }
  }
  const text = (a: GoldenAttribute) => (typeof values[a] === "string" ? values[a] : "");
  return {
    email: text("email"),
    phone: text("phone"),
    givenName: text("given_name"),
    familyName: text("family_name"),
    loyaltyNumber: text("loyalty_number"),
    addresses: Array.isArray(values.addresses) ? values.addresses : [],
    winners,
  };
}

function beats(
  a: LinkedSource,
  b: LinkedSource,
  attribute: GoldenAttribute,
  sources: SourceDirectory,
): boolean {
  const trustA = trustOf(sources(a.record.sourceSystem), attribute);
  const trustB = trustOf(sources(b.record.sourceSystem), attribute);
  if (trustA !== trustB) return trustA > trustB;
  const timeA = observedAt(a).getTime();
  const timeB = observedAt(b).getTime();
  if (timeA !== timeB) return timeA > timeB;
  return `${a.record.sourceSystem}:${a.record.sourceId}` > `${b.record.sourceSystem}:${b.record.sourceId}`;
}

/** Attribute names whose golden value differs between two versions of a record. */
export function changedAttributes(before: GoldenRecord | undefined, after: GoldenRecord): GoldenAttribute[] {
  const valueOfGolden = (g: GoldenRecord, a: GoldenAttribute) => {
    switch (a) {
      case "email":
        return g.email;
      case "phone":
        return g.phone;
      case "given_name":
        return g.givenName;
      case "family_name":
        return g.familyName;
      case "loyalty_number":
        return g.loyaltyNumber;
      case "addresses":
        return JSON.stringify(g.addresses.map((x) => [x.lines, x.locality, x.postalCode, x.regionCode]));
    }
  };
  return goldenAttributes.filter((a) => !before || valueOfGolden(before, a) !== valueOfGolden(after, a));
}

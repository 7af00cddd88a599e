import { parsePhoneNumberFromString } from "libphonenumber-js/max";

/** What a match key identifies: a person's email, phone, loyalty card, or one source's record id. */
export type MatchKeyKind = "email" | "phone" | "loyalty_number" | "source";

/** A normalised identifier; `id` ("email:jane@example.com") is unique per kind and value. */
export interface MatchKey {
  readonly kind: MatchKeyKind;
  readonly value: string;
  readonly id: string;
}

export function matchKey(kind: MatchKeyKind, value: string): MatchKey {
  return { kind, value, id: `${kind}:${value}` };
}

export function sourceKey(sourceSystem: string, sourceId: string): MatchKey {
  return matchKey("source", `${sourceSystem}:${sourceId}`);
}

/**
 * Mailbox providers known to deliver "local+tag@" to "local@" (and, for Gmail, to ignore dots in the
 * local part). Only these get tags and dots removed: elsewhere "a.b+x@" may be another person's mailbox.
 */
const mailboxRules: Record<string, { canonicalDomain: string; ignoresDots: boolean }> = {
  "gmail.com": { canonicalDomain: "gmail.com", ignoresDots: true },
  "googlemail.com": { canonicalDomain: "gmail.com", ignoresDots: true },
  "outlook.com": { canonicalDomain: "outlook.com", ignoresDots: false },
  "hotmail.com": { canonicalDomain: "hotmail.com", ignoresDots: false },
  "live.com": { canonicalDomain: "live.com", ignoresDots: false },
  "icloud.com": { canonicalDomain: "icloud.com", ignoresDots: false },
  "me.com": { canonicalDomain: "me.com", ignoresDots: false },
  "proton.me": { canonicalDomain: "proton.me", ignoresDots: false },
  "protonmail.com": { canonicalDomain: "protonmail.com", ignoresDots: false },
  "fastmail.com": { canonicalDomain: "fastmail.com", ignoresDots: false },
};

// One "@", no spaces, a dotted domain with a 2+ letter top level: what deliverable addresses look like.
const emailShape = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)*\.[a-z]{2,}$/;

/** The form an email address is matched and stored in, or undefined when it is not an address. */
export function normalizeEmail(raw: string): string | undefined {
  const email = raw.trim().toLowerCase();
  if (email.length > 254 || !emailShape.test(email)) return undefined;
  const at = email.lastIndexOf("@");
  let local = email.slice(0, at);
  const domain = email.slice(at + 1);
  const rule = mailboxRules[domain];
  if (!rule) return email;
  local = local.split("+")[0] ?? local;
  if (rule.ignoresDots) local = local.replaceAll(".", "");
  return local ? `${local}@${rule.canonicalDomain}` : undefined;
}

/**
 * The E.164 form of a phone number ("+14155552671"), reading a number without a country prefix in
 * the given region; undefined when it is not a valid number there.
 */
export function normalizePhone(raw: string, regionCode: string): string | undefined {
  const parsed = parsePhoneNumberFromString(raw.trim(), (regionCode || undefined) as never);
  return parsed?.isValid() ? parsed.number : undefined;
}

/** Loyalty numbers are printed with spaces and dashes and typed in any case: keep letters and digits. */
export function normalizeLoyaltyNumber(raw: string): string | undefined {
  const value = raw.toUpperCase().replace(/[\s-]/g, "");
  return /^[A-Z0-9]{4,32}$/.test(value) ? value : undefined;
}

/**
 * The keys a record is matched by: its source key first, then its email, phone and loyalty number when
 * present and well-formed (validation refuses malformed ones before this is called).
 */
export function recordKeys(
  record: { sourceSystem: string; sourceId: string; email: string; phone: string; loyaltyNumber: string },
  regionCode: string,
): MatchKey[] {
  const keys = [sourceKey(record.sourceSystem, record.sourceId)];
  const email = record.email ? normalizeEmail(record.email) : undefined;
  if (email) keys.push(matchKey("email", email));
  const phone = record.phone ? normalizePhone(record.phone, regionCode) : undefined;
  if (phone) keys.push(matchKey("phone", phone));
  const loyalty = record.loyaltyNumber ? normalizeLoyaltyNumber(record.loyaltyNumber) : undefined;
  if (loyalty) keys.push(matchKey("loyalty_number", loyalty));
  return keys;
}

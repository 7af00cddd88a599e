import { createHash } from "node:crypto";
import type { MatchKeyKind } from "./match-keys.js";

/**
 * When a source record matches more than one customer: merge them at once, or raise a candidate for
 * a person to review. Data, not code: MERGE_RULES in the environment replaces the defaults.
 */
export interface MergeRules {
  /** False: every multi-match goes to review. */
  readonly autoMerge: boolean;
  /** Keys that identify one person on their own (an email, a loyalty card); phones are shared in homes. */
  readonly strongKeys: readonly MatchKeyKind[];
  /** Refuse to auto-merge customers whose known family names differ. */
  readonly requireSameFamilyName: boolean;
}

export const defaultMergeRules: MergeRules = {
  autoMerge: true,
  strongKeys: ["email", "loyalty_number", "source"],
  requireSameFamilyName: true,
};

/** One customer a record matched, by which keys, and the family name it knows. */
export interface Match {
  readonly customerId: string;
  readonly keys: readonly MatchKeyKind[];
  readonly familyName: string;
  readonly createdAt: Date;
}

/** The customer a multi-match links to: most keys matched, then strongest, then oldest. */
export function bestMatch(matches: readonly Match[], rules: MergeRules): Match {
  const strength = (m: Match) => m.keys.filter((k) => rules.strongKeys.includes(k)).length;
  const sorted = [...matches].sort(
    (a, b) =>
      b.keys.length - a.keys.length ||
      strength(b) - strength(a) ||
      a.createdAt.getTime() - b.createdAt.getTime() ||
      a.customerId.localeCompare(b.customerId),
  );
  const best = sorted[0];
  if (!best) throw new Error("bestMatch needs at least one match");
  return best;
}

/**
 * Whether the rules allow merging the other matches into the best one without review: each matched
 * on a strong key, and (when required) every family name the record and customers know agrees.
 */
export function mayAutoMerge(
  best: Match,
  others: readonly Match[],
  recordFamilyName: string,
  rules: MergeRules,
): boolean {
  if (!rules.autoMerge) return false;
  if (!others.every((m) => m.keys.some((k) => rules.strongKeys.includes(k)))) return false;
  if (!rules.requireSameFamilyName) return true;
  const names = new Set(
    [recordFamilyName, best.familyName, ...others.map((m) => m.familyName)]
      .map((n) => n.trim().toLowerCase())
      .filter((n) => n.length > 0),
  );
  return names.size <= 1;
}

/** Identifiers that name one person, by kind: a record's or a customer's emails and loyalty numbers. */
export type StrongValues = ReadonlyMap<MatchKeyKind, ReadonlySet<string>>;

/**
 * A match on weak keys only (a shared home phone) is no match when the record and the customer both
 * carry an identifier of a strong kind and none of them agree: two people of one household, not one
 * person. Such records start a customer of their own and the pair goes to review.
 */
export function isContradicted(
  match: Match,
  record: StrongValues,
  customer: StrongValues,
  rules: MergeRules,
): boolean {
  if (match.keys.some((k) => rules.strongKeys.includes(k))) return false;
  return rules.strongKeys
    .filter((kind) => kind !== "source")
    .some((kind) => {
      const mine = record.get(kind);
      const theirs = customer.get(kind);
      return !!mine?.size && !!theirs?.size && ![...mine].some((v) => theirs.has(v));
    });
}

/** A merge candidate's id: the same for the same set of customers, in any order. */
export function mergeCandidateIdOf(customerIds: readonly string[]): string {
  const ids = [...new Set(customerIds)].sort();
  return createHash("sha256").update(ids.join(",")).digest("hex").slice(0, 24);
}

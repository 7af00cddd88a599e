import {
  type AmountOf,
  type PostingKind,
  type PostingRule,
  providerKindOf,
  type RuleSet,
  type Side,
} from "./rules.js";

/** One line of what happened (a delivered order line), in minor units. */
export interface PostingLine {
  readonly sku: string;
  readonly taxCode: string;
  readonly net: bigint;
  readonly discount: bigint;
  readonly tax: bigint;
}

/** Something that happened that finance posts, in the ledger's terms. */
export interface Posting {
  readonly kind: PostingKind;
  /** Unique per posting: the source event id and what of it is posted ("<event id>:delivery"). */
  readonly key: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly orderId: string;
  /** The channel's name ("WEB", "POS", "MARKETPLACE"). */
  readonly channel: string;
  readonly storeId: string;
  readonly settlementId: string;
  readonly provider: string;
  readonly providerReference: string;
  readonly paymentMethod: string;
  readonly currency: string;
  /** Business date, "YYYY-MM-DD". */
  readonly postingDate: string;
  readonly description: string;
  /** Order-level amount (a capture, a refund, a fee), always positive. */
  readonly amount: bigint;
  /** The tax part of `amount` (a refund's tax refunded). */
  readonly tax: bigint;
  readonly lines: readonly PostingLine[];
}

export interface PostedLine {
  readonly account: string;
  readonly side: Side;
  readonly amount: bigint;
  readonly sku: string;
  readonly taxCode: string;
  readonly paymentMethod: string;
}

/** The rules give no way to post a posting (FAILED_PRECONDITION: the rule set needs fixing). */
export class NoPostingRule extends Error {
  readonly kind = "no-posting-rule";
  constructor(readonly fact: PostingKind) {
    super(`the posting rules have no rule for ${fact}`);
  }
}

/** A rule produced lines whose debits and credits differ: the rule set is wrong, nothing is posted. */
export class UnbalancedPosting extends Error {
  readonly kind = "unbalanced-posting";
  constructor(
    readonly factKey: string,
    readonly debits: bigint,
    readonly credits: bigint,
  ) {
    super(`posting ${factKey} would not balance: debits ${debits}, credits ${credits}`);
  }
}

function matches(rule: PostingRule, posting: Posting, taxCode: string, rules: RuleSet): boolean {
  return (
    rule.fact === posting.kind &&
    (!rule.providerKinds || rule.providerKinds.includes(providerKindOf(rules, posting.provider) ?? "")) &&
    (!rule.channels || rule.channels.includes(posting.channel)) &&
    (!rule.paymentMethods || rule.paymentMethods.includes(posting.paymentMethod)) &&
    (!rule.providers || rule.providers.includes(posting.provider)) &&
    (!rule.taxCodes || rule.taxCodes.includes(taxCode))
  );
}

function amountOf(source: AmountOf, posting: Posting, line: PostingLine | undefined): bigint {
  // A posting made line by line (a delivery, a refund of named lines) takes each line's share.
  switch (source) {
    case "amount":
      return line ? line.net + line.tax : posting.amount;
    case "amount_less_tax":
      return line ? line.net : posting.amount - posting.tax;
    case "net":
      return line?.net ?? 0n;
    case "tax":
      return line ? line.tax : posting.tax;
    case "discount":
      return line?.discount ?? 0n;
    case "gross":
      return (line?.net ?? 0n) + (line?.discount ?? 0n);
    case "total":
      return (line?.net ?? 0n) + (line?.tax ?? 0n);
  }
}

/**
 * The journal lines a posting makes under a rule set: per line for deliveries and refunds of named
 * lines (each line by its own rule, chosen by its tax code), else once. Zero amounts are left out; debits must equal credits.
 */
export function postingLines(posting: Posting, rules: RuleSet): PostedLine[] {
  const units: Array<PostingLine | undefined> = posting.lines.length > 0 ? [...posting.lines] : [undefined];
  const posted: PostedLine[] = [];
  for (const line of units) {
    const rule = rules.rules.find((r) => matches(r, posting, line?.taxCode ?? "", rules));
    if (!rule) throw new NoPostingRule(posting.kind);
    for (const template of rule.lines) {
      const amount = amountOf(template.amount, posting, line);
      if (amount === 0n) continue;
      const positive = amount > 0n;
      posted.push({
        account: template.account,
        // A negative amount (a discount larger than expected, a reversal) posts on the other side.
        side: positive ? template.side : template.side === "debit" ? "credit" : "debit",
        amount: positive ? amount : -amount,
        sku: line?.sku ?? "",
        taxCode: line?.taxCode ?? "",
        paymentMethod: posting.paymentMethod,
      });
    }
  }
  const total = (side: Side) => posted.filter((l) => l.side === side).reduce((s, l) => s + l.amount, 0n);
  if (total("debit") !== total("credit"))
    throw new UnbalancedPosting(posting.key, total("debit"), total("credit"));
  return posted;
}

/** Lines of many facts of one store and day, summed per account, side, tax code and payment method. */
export function summarise(lines: readonly PostedLine[]): PostedLine[] {
  const sums = new Map<string, PostedLine>();
  for (const l of lines) {
    const key = `${l.account}|${l.side}|${l.taxCode}|${l.paymentMethod}`;
    const held = sums.get(key);
    sums.set(key, held ? { ...held, amount: held.amount + l.amount } : { ...l, sku: "" });
  }
  return [...sums.values()].sort(
    (a, b) => a.account.localeCompare(b.account) || a.side.localeCompare(b.side),
  );
}

/** "2026-11-26" -> "2026-11". */
export function periodOf(postingDate: string): string {
  return postingDate.slice(0, 7);
}

/** The period after "2026-12" is "2027-01". */
export function nextPeriod(periodId: string): string {
  const [year = 0, month = 0] = periodId.split("-").map(Number);
  return month === 12 ? `${year + 1}-01` : `${year}-${String(month + 1).padStart(2, "0")}`;
}

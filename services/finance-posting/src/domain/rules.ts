/**
 * The chart of accounts and the posting rules, as data: which fact posts which lines to which accounts,
 * chosen by channel, payment method and tax code. A rule set has a version; every entry records the
 * version that produced it. The default below is replaced with POSTING_RULES (JSON of this shape).
 */
export type Side = "debit" | "credit";

/** Which amount of a fact (or of one of its lines) a template posts. */
export type AmountOf = "amount" | "net" | "tax" | "discount" | "gross" | "total" | "amount_less_tax";

/** What happened, as finance sees it (the adapters turn order events and settlements into these). */
export type PostingKind =
  | "capture"
  | "delivery"
  | "shipping_delivered"
  | "refund_of_delivered"
  | "refund_of_undelivered"
  | "refund_unmatched"
  | "suspense_cleared"
  | "chargeback"
  | "chargeback_fee"
  | "chargeback_reversal"
  | "settlement_fee"
  | "settlement_commission"
  | "settlement_payout"
  | "settlement_adjustment";

export interface LineTemplate {
  readonly account: string;
  readonly side: Side;
  readonly amount: AmountOf;
}

export interface PostingRule {
  readonly fact: PostingKind;
  /** Filters; a rule without one matches any value. The first matching rule of a fact wins. */
  readonly channels?: readonly string[];
  readonly paymentMethods?: readonly string[];
  readonly taxCodes?: readonly string[];
  readonly providers?: readonly string[];
  /** Kinds of settlement provider ("marketplace", "card_processor"), as the rule set's providers say. */
  readonly providerKinds?: readonly string[];
  readonly lines: readonly LineTemplate[];
}

export interface RuleSet {
  readonly version: string;
  readonly accounts: Readonly<Record<string, string>>;
  /** "summary": POS-style, summarised per store, day and account; anything else posts in detail. */
  readonly granularity: Readonly<Record<string, "detail" | "summary">>;
  /**
   * Every settlement provider the business takes files from, with its kind: the kind says whose
   * account a payout, fee or adjustment clears. A provider not listed here is refused, never posted
   * under a default.
   */
  readonly providers: Readonly<Record<string, string>>;
  readonly rules: readonly PostingRule[];
}

const dr = (account: string, amount: AmountOf): LineTemplate => ({ account, side: "debit", amount });
const cr = (account: string, amount: AmountOf): LineTemplate => ({ account, side: "credit", amount });

export const defaultRuleSet: RuleSet = {
  version: "2026-11.1",
  accounts: {
    "1100": "Bank",
    "1200": "Card processor clearing",
    "1210": "Marketplace receivable",
    "2100": "Deferred revenue (contract liabilities)",
    "2200": "Sales tax payable",
    "2300": "Gift card liability",
    "4000": "Product revenue",
    "4050": "Discounts (contra revenue)",
    "4060": "Refunds and returns (contra revenue)",
    "4100": "Shipping revenue",
    "5100": "Payment processing fees",
    "5200": "Marketplace commissions and fees",
    "5300": "Chargebacks",
    "5310": "Chargeback fees",
    "9999": "Suspense",
  },
  granularity: { POS: "summary" },
  providers: {
    amazon: "marketplace",
    "amazon-us": "marketplace",
    "amazon-uk": "marketplace",
    ebay: "marketplace",
    walmart: "marketplace",
    stripe: "card_processor",
    adyen: "card_processor",
    paypal: "card_processor",
    shopify_payments: "card_processor",
  },
  rules: [
    // Money taken before delivery is deferred.
    { fact: "capture", paymentMethods: ["gift_card"], lines: [dr("2300", "amount"), cr("2100", "amount")] },
    { fact: "capture", channels: ["MARKETPLACE"], lines: [dr("1210", "amount"), cr("2100", "amount")] },
    { fact: "capture", lines: [dr("1200", "amount"), cr("2100", "amount")] },
    // Delivery (shipped or picked up) recognises revenue, per line.
    { fact: "delivery", taxCodes: ["gift_card"], lines: [dr("2100", "total"), cr("2300", "total")] },
    {
      fact: "delivery",
      lines: [dr("2100", "total"), dr("4050", "discount"), cr("4000", "gross"), cr("2200", "tax")],
    },
    { fact: "shipping_delivered", lines: [dr("2100", "amount"), cr("4100", "amount")] },
    // Refunds: of delivered goods against revenue and tax, of undelivered ones against the deferral.
    {
      fact: "refund_of_delivered",
      channels: ["MARKETPLACE"],
      lines: [dr("4060", "amount_less_tax"), dr("2200", "tax"), cr("1210", "amount")],
    },
    {
      fact: "refund_of_delivered",
      lines: [dr("4060", "amount_less_tax"), dr("2200", "tax"), cr("1200", "amount")],
    },
    {
      fact: "refund_of_undelivered",
      channels: ["MARKETPLACE"],
      lines: [dr("2100", "amount"), cr("1210", "amount")],
    },
    { fact: "refund_of_undelivered", lines: [dr("2100", "amount"), cr("1200", "amount")] },
    // A refund before its capture: held in suspense, cleared when the capture arrives.
    { fact: "refund_unmatched", lines: [dr("9999", "amount"), cr("1200", "amount")] },
    { fact: "suspense_cleared", lines: [dr("2100", "amount"), cr("9999", "amount")] },
    { fact: "chargeback", lines: [dr("5300", "amount"), cr("1200", "amount")] },
    { fact: "chargeback_fee", lines: [dr("5310", "amount"), cr("1200", "amount")] },
    { fact: "chargeback_reversal", lines: [dr("1200", "amount"), cr("5300", "amount")] },
    // Settlements post as they are imported, against the account the provider's kind clears: a
    // marketplace's receivable, a card processor's clearing account.
    {
      fact: "settlement_fee",
      providerKinds: ["marketplace"],
      lines: [dr("5200", "amount"), cr("1210", "amount")],
    },
    {
      fact: "settlement_fee",
      providerKinds: ["card_processor"],
      lines: [dr("5100", "amount"), cr("1200", "amount")],
    },
    {
      fact: "settlement_commission",
      providerKinds: ["marketplace"],
      lines: [dr("5200", "amount"), cr("1210", "amount")],
    },
    {
      fact: "settlement_commission",
      providerKinds: ["card_processor"],
      lines: [dr("5100", "amount"), cr("1200", "amount")],
    },
    {
      fact: "settlement_payout",
      providerKinds: ["marketplace"],
      lines: [dr("1100", "amount"), cr("1210", "amount")],
    },
    {
      fact: "settlement_payout",
      providerKinds: ["card_processor"],
      lines: [dr("1100", "amount"), cr("1200", "amount")],
    },
    {
      fact: "settlement_adjustment",
      providerKinds: ["marketplace"],
      lines: [dr("1210", "amount"), cr("9999", "amount")],
    },
    {
      fact: "settlement_adjustment",
      providerKinds: ["card_processor"],
      lines: [dr("1200", "amount"), cr("9999", "amount")],
    },
  ],
};

/** The kind of a settlement provider, or undefined when the rule set does not know it. */
export function providerKindOf(rules: RuleSet, provider: string): string | undefined {
  return Object.hasOwn(rules.providers, provider) ? rules.providers[provider] : undefined;
}

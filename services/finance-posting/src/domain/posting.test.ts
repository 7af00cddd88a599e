import { describe, expect, it } from "vitest";
import { nextPeriod, type Posting, postingLines, summarise, UnbalancedPosting } from "./posting.js";
import { defaultRuleSet, type RuleSet } from "./rules.js";

const posting = (overrides: Partial<Posting>): Posting => ({
  kind: "capture",
  key: "e1:capture",
  eventId: "e1",
  eventType: "retail.order.v1.PaymentCaptured",
  orderId: "o1",
  channel: "WEB",
  storeId: "",
  settlementId: "",
  provider: "stripe",
  providerReference: "ch_1",
  paymentMethod: "card",
  currency: "USD",
  postingDate: "2026-11-26",
  description: "",
  amount: 0n,
  tax: 0n,
  lines: [],
  ...overrides,
});
const view = (lines: ReturnType<typeof postingLines>) =>
  lines.map((l) => `${l.side === "debit" ? "Dr" : "Cr"} ${l.account} ${l.amount}`);

describe("posting rules", () => {
  it("defers a card capture and recognises revenue, discount and tax per line on delivery", () => {
    expect(view(postingLines(posting({ amount: 1089n }), defaultRuleSet))).toEqual([
      "Dr 1200 1089",
      "Cr 2100 1089",
    ]);
    const delivered = postingLines(
      posting({
        kind: "delivery",
        lines: [{ sku: "A", taxCode: "standard", net: 900n, discount: 100n, tax: 80n }],
      }),
      defaultRuleSet,
    );
    expect(view(delivered)).toEqual(["Dr 2100 980", "Dr 4050 100", "Cr 4000 1000", "Cr 2200 80"]);
  });

  it("posts a refund of named lines per line, each line's share against revenue, tax and the clearing account", () => {
    const refunded = postingLines(
      posting({
        kind: "refund_of_delivered",
        amount: 1661n,
        tax: 89n,
        lines: [
          { sku: "MUG", taxCode: "standard", net: 1000n, discount: 0n, tax: 89n },
          { sku: "CARD", taxCode: "zero", net: 572n, discount: 0n, tax: 0n },
        ],
      }),
      defaultRuleSet,
    );
    expect(refunded.map((l) => `${view([l])[0]} ${l.sku}`)).toEqual([
      "Dr 4060 1000 MUG",
      "Dr 2200 89 MUG",
      "Cr 1200 1089 MUG",
      "Dr 4060 572 CARD",
      "Cr 1200 572 CARD",
    ]);
    // Without lines, once for the order.
    expect(
      view(postingLines(posting({ kind: "refund_of_delivered", amount: 1661n, tax: 89n }), defaultRuleSet)),
    ).toEqual(["Dr 4060 1572", "Dr 2200 89", "Cr 1200 1661"]);
  });

  it("chooses rules by payment method, channel and tax code", () => {
    expect(view(postingLines(posting({ amount: 50n, paymentMethod: "gift_card" }), defaultRuleSet))).toEqual([
      "Dr 2300 50",
      "Cr 2100 50",
    ]);
    expect(view(postingLines(posting({ amount: 50n, channel: "MARKETPLACE" }), defaultRuleSet))).toEqual([
      "Dr 1210 50",
      "Cr 2100 50",
    ]);
    const giftCardSold = postingLines(
      posting({
        kind: "delivery",
        lines: [{ sku: "GC", taxCode: "gift_card", net: 5000n, discount: 0n, tax: 0n }],
      }),
      defaultRuleSet,
    );
    expect(view(giftCardSold)).toEqual(["Dr 2100 5000", "Cr 2300 5000"]);
  });

  it("refuses a rule set whose lines would not balance", () => {
    const broken: RuleSet = {
      ...defaultRuleSet,
      rules: [{ fact: "capture", lines: [{ account: "1200", side: "debit", amount: "amount" }] }],
    };
    expect(() => postingLines(posting({ amount: 10n }), broken)).toThrow(UnbalancedPosting);
  });

  it("summarises store lines per account and side", () => {
    const lines = [1n, 2n].flatMap((n) =>
      postingLines(
        posting({
          kind: "delivery",
          lines: [{ sku: `S${n}`, taxCode: "standard", net: 100n * n, discount: 0n, tax: 10n * n }],
        }),
        defaultRuleSet,
      ),
    );
    expect(view(summarise(lines))).toEqual(["Dr 2100 330", "Cr 2200 30", "Cr 4000 300"]);
    expect(nextPeriod("2026-12")).toBe("2027-01");
  });
});

import { describe, expect, it } from "vitest";
import { bestMatch, defaultMergeRules, isContradicted, type Match, mayAutoMerge } from "./merge-rules.js";

const match = (
  customerId: string,
  keys: Match["keys"],
  familyName = "Doe",
  created = "2026-01-01",
): Match => ({
  customerId,
  keys,
  familyName,
  createdAt: new Date(created),
});

describe("merge rules", () => {
  it("links to the customer matched on most keys, then the oldest", () => {
    expect(
      bestMatch([match("a", ["phone"]), match("b", ["email", "phone"])], defaultMergeRules).customerId,
    ).toBe("b");
    expect(
      bestMatch(
        [match("a", ["email"], "Doe", "2026-02-01"), match("b", ["email"], "Doe", "2026-01-01")],
        defaultMergeRules,
      ).customerId,
    ).toBe("b");
  });

  it("auto-merges only customers matched on a strong key with the same family name", () => {
    const best = match("a", ["email"]);
    expect(mayAutoMerge(best, [match("b", ["loyalty_number"])], "doe", defaultMergeRules)).toBe(true);
    expect(mayAutoMerge(best, [match("b", ["phone"])], "Doe", defaultMergeRules)).toBe(false);
    expect(mayAutoMerge(best, [match("b", ["loyalty_number"], "Roe")], "Doe", defaultMergeRules)).toBe(false);
    expect(mayAutoMerge(best, [match("b", ["email"])], "", { ...defaultMergeRules, autoMerge: false })).toBe(
      false,
    );
  });
});

describe("contradicted matches", () => {
  const values = (emails: string[]) => new Map([["email" as const, new Set(emails)]]);

  it("treats a shared phone as no match when the emails on both sides differ", () => {
    const shared = match("a", ["phone"]);
    expect(isContradicted(shared, values(["kid@x.com"]), values(["parent@x.com"]), defaultMergeRules)).toBe(
      true,
    );
    expect(
      isContradicted(
        shared,
        values(["parent@x.com"]),
        values(["parent@x.com", "p2@x.com"]),
        defaultMergeRules,
      ),
    ).toBe(false);
    expect(isContradicted(shared, new Map(), values(["parent@x.com"]), defaultMergeRules)).toBe(false);
    expect(
      isContradicted(
        match("a", ["loyalty_number"]),
        values(["kid@x.com"]),
        values(["parent@x.com"]),
        defaultMergeRules,
      ),
    ).toBe(false);
  });
});

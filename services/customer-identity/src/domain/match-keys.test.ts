import { describe, expect, it } from "vitest";
import { normalizeEmail, normalizeLoyaltyNumber, normalizePhone, recordKeys } from "./match-keys.js";

describe("match keys", () => {
  it("lower-cases emails and drops Gmail dots and plus tags, which Gmail ignores", () => {
    expect(normalizeEmail("  Jane.Doe+Shop@GoogleMail.com ")).toBe("janedoe@gmail.com");
    expect(normalizeEmail("j.a.n.e.doe@gmail.com")).toBe("janedoe@gmail.com");
  });

  it("keeps plus tags and dots where the provider is not known to ignore them", () => {
    expect(normalizeEmail("Jane.Doe+Shop@Example.co.uk")).toBe("jane.doe+shop@example.co.uk");
    expect(normalizeEmail("jane.doe+news@outlook.com")).toBe("jane.doe@outlook.com");
  });

  it("refuses strings that are not addresses", () => {
    for (const bad of ["jane", "jane@", "@example.com", "jane@example", "ja ne@example.com", "a@b@c.com"]) {
      expect(normalizeEmail(bad), bad).toBeUndefined();
    }
  });

  it("reads phone numbers in E.164 from any common format, national ones in the given region", () => {
    expect(normalizePhone("(415) 555-2671", "US")).toBe("+14155552671");
    expect(normalizePhone("+1 415.555.2671", "GB")).toBe("+14155552671");
    expect(normalizePhone("020 7946 0018", "GB")).toBe("+442079460018");
    expect(normalizePhone("12", "US")).toBeUndefined();
    expect(normalizePhone("4155552671", "")).toBeUndefined();
  });

  it("keeps letters and digits of loyalty numbers, upper-cased", () => {
    expect(normalizeLoyaltyNumber("ab-1234 5678")).toBe("AB12345678");
    expect(normalizeLoyaltyNumber("12")).toBeUndefined();
  });

  it("gives a record's source key first, then each identity it carries", () => {
    const keys = recordKeys(
      { sourceSystem: "pos", sourceId: "m-1", email: "A@x.com", phone: "", loyaltyNumber: "L-0001" },
      "US",
    );
    expect(keys.map((k) => k.id)).toEqual(["source:pos:m-1", "email:a@x.com", "loyalty_number:L0001"]);
  });
});

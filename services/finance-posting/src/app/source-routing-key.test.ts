import { describe, expect, it } from "vitest";
import { sourceRoutingKey } from "./record-posting.js";

describe("a journal entry's source routing key", () => {
  it("is the broker's name of the domain event that caused it, and empty for the ledger's own postings", () => {
    expect(sourceRoutingKey("retail.order.v1.PaymentCaptured")).toBe("order.payment_captured");
    expect(sourceRoutingKey("retail.order.v1.ChargebackReversed")).toBe("order.chargeback_reversed");
    for (const own of ["settlement", "payout", "reversal", "store_summary", "shipping"])
      expect(sourceRoutingKey(own)).toBe("");
  });
});

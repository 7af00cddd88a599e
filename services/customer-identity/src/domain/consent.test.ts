import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import { ConsentPurpose, ConsentStatus } from "@retail/contracts/retail/customer/v1/customer_pb";
import { describe, expect, it } from "vitest";
import { effectiveConsents } from "./consent.js";
import type { ConsentChange } from "./customer.js";

function change(sourceSystem: string, status: ConsentStatus, at: string): ConsentChange {
  return {
    purpose: ConsentPurpose.MARKETING_EMAIL,
    channel: Channel.WEB,
    status,
    sourceSystem,
    changedAt: new Date(at),
  };
}

describe("effective consent", () => {
  it("keeps one source's opt-out in force over another source's later opt-in", () => {
    const effective = effectiveConsents([
      change("pos", ConsentStatus.DENIED, "2026-03-01"),
      change("shopify-web", ConsentStatus.GRANTED, "2026-04-01"),
    ]);
    expect(effective).toHaveLength(1);
    expect(effective[0]).toMatchObject({ status: ConsentStatus.DENIED, sourceSystem: "pos" });
  });

  it("lets the source that opted out opt back in", () => {
    const effective = effectiveConsents([
      change("pos", ConsentStatus.DENIED, "2026-03-01"),
      change("shopify-web", ConsentStatus.GRANTED, "2026-04-01"),
      change("pos", ConsentStatus.GRANTED, "2026-05-01"),
    ]);
    expect(effective[0]).toMatchObject({ status: ConsentStatus.GRANTED, sourceSystem: "pos" });
  });

  it("ignores a source's older statement that arrives after a newer one", () => {
    const effective = effectiveConsents([
      change("pos", ConsentStatus.GRANTED, "2026-05-01"),
      change("pos", ConsentStatus.DENIED, "2026-01-01"),
    ]);
    expect(effective[0]?.status).toBe(ConsentStatus.GRANTED);
  });
});

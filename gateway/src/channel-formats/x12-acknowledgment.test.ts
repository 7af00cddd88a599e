import { readFileSync } from "node:fs";
import { type X12Interchange, X12Parser } from "node-x12";
import { describe, expect, it } from "vitest";
import { functionalAcknowledgment } from "./x12-acknowledgment.js";
import { parseInterchange } from "./x12-purchase-order.js";

const edi = readFileSync(new URL("../../test/fixtures/x12/850.node-x12.edi", import.meta.url), "utf8");
const now = new Date("2026-11-28T04:10:00Z");

/** The 997's segments as "TAG*el*el" texts, envelope included. */
function segmentsOf(text: string) {
  const parsed = new X12Parser(true).parse(text) as X12Interchange;
  const values = (s: { tag: string; elements: Array<{ value: string }> }) =>
    [s.tag, ...s.elements.map((e) => e.value)].join("*");
  const group = parsed.functionalGroups[0];
  return {
    isa: values(parsed.header),
    gs: group ? values(group.header) : "",
    sets: (group?.transactions ?? []).map((t) => t.segments.map(values)),
  };
}

describe("the 997 functional acknowledgment", () => {
  it("accepts every set of the real sample's group, addressed back to its sender with its control numbers", () => {
    const { envelope, senderId } = parseInterchange(edi);
    const ack = segmentsOf(functionalAcknowledgment(envelope, () => ({ accepted: true }), now));
    const isa = envelope.isa;
    // Sender and receiver swapped, the control number echoed, production or test as it came.
    expect(
      ack.isa
        .split("*")
        .slice(5, 9)
        .map((v) => v.trim()),
    ).toEqual([isa[7], isa[8]?.trim(), isa[5], senderId]);
    expect(ack.isa.split("*")[13]).toBe(isa[13]);
    expect(ack.isa.split("*")[15]).toBe(isa[15]);
    const gs = envelope.groups[0]?.gs ?? [];
    expect(ack.gs).toBe(`GS*FA*${gs[2]}*${gs[1]}*20261128*0410*${gs[5]}*X*${gs[7]}`);
    const sets = envelope.groups[0]?.sets ?? [];
    expect(ack.sets).toEqual([
      [
        `AK1*${gs[0]}*${gs[5]}`,
        ...sets.flatMap((s) => [`AK2*${s.type}*${s.control}`, "AK5*A"]),
        `AK9*A*${sets.length}*${sets.length}*${sets.length}`,
      ],
    ]);
  });

  it("rejects sets with their reason, and says whether the group was partly or wholly rejected", () => {
    const envelope = {
      isa: parseInterchange(edi).envelope.isa,
      groups: [
        {
          gs: ["PO", "SENDER", "US", "20261128", "0400", "77", "X", "004010"],
          sets: [
            { type: "850", control: "0001" },
            { type: "850", control: "0002" },
            { type: "860", control: "0003" },
          ],
        },
      ],
    };
    const partly = segmentsOf(
      functionalAcknowledgment(
        envelope,
        (s) =>
          s.type !== "850"
            ? { accepted: false, code: "1" }
            : s.control === "0002"
              ? { accepted: false, code: "5" }
              : { accepted: true },
        now,
      ),
    );
    expect(partly.sets[0]).toEqual([
      "AK1*PO*77",
      "AK2*850*0001",
      "AK5*A",
      "AK2*850*0002",
      "AK5*R*5",
      "AK2*860*0003",
      "AK5*R*1",
      "AK9*P*3*3*1",
    ]);
    const none = segmentsOf(functionalAcknowledgment(envelope, () => ({ accepted: false }), now));
    expect(none.sets[0]?.at(-1)).toBe("AK9*R*3*3*0");
  });
});

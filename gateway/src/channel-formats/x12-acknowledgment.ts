// The 997 functional acknowledgment the gateway answers every X12 interchange with (ASC X12 004010):
// one 997 per functional group received, in a group of its own (GS01 FA), addressed back to the
// sender. AK1 names the group (its GS01 and control number), AK2/AK5 each transaction set (accepted,
// or rejected with why: 1 not supported, 5 segments in error), AK9 the group (accepted, partially, or
// rejected, with the counts). Its envelope answers the interchange's: the sender and receiver swapped,
// the interchange and group control numbers echoed (a resent file gets the same 997), test or
// production as it came. Built with node-x12, which computes the trailers.
import { X12Interchange } from "node-x12";

/**
 * What a 997 needs of the interchange it answers: its ISA elements (index n is ISAnn, index 0 "ISA"),
 * and each group's GS elements (index 0 is GS01) and transaction sets.
 */
export interface InterchangeEnvelope {
  readonly isa: readonly string[];
  readonly groups: ReadonlyArray<{
    readonly gs: readonly string[];
    readonly sets: ReadonlyArray<{ readonly type: string; readonly control: string }>;
  }>;
}

/** A transaction set's fate: accepted, or rejected with an AK502 code when there is one to give. */
export type SetVerdict =
  | { readonly accepted: true }
  | { readonly accepted: false; readonly code?: "1" | "5" };

const pad = (value: string, width: number) => value.padEnd(width).slice(0, width);
const two = (n: number) => String(n).padStart(2, "0");

/** The 997 answering an interchange, each set judged by `verdict`. */
export function functionalAcknowledgment(
  envelope: InterchangeEnvelope,
  verdict: (set: { type: string; control: string }) => SetVerdict,
  now: Date,
): string {
  /** The interchange's ISAnn. */
  const isa = (n: number) => envelope.isa[n] ?? "";
  const date = `${now.getUTCFullYear()}${two(now.getUTCMonth() + 1)}${two(now.getUTCDate())}`;
  const time = `${two(now.getUTCHours())}${two(now.getUTCMinutes())}`;
  const interchange = new X12Interchange();
  interchange.setHeader([
    "00",
    pad("", 10),
    "00",
    pad("", 10),
    isa(7),
    pad(isa(8).trim(), 15),
    isa(5),
    pad(isa(6).trim(), 15),
    date.slice(2),
    time,
    isa(11) || "U",
    isa(12) || "00401",
    isa(13).padStart(9, "0"),
    "0",
    isa(15) || "P",
    isa(16) || ">",
  ]);
  const group = interchange.addFunctionalGroup();
  const first = envelope.groups[0]?.gs ?? [];
  group.setHeader([
    "FA",
    first[2] ?? "",
    first[1] ?? "",
    date,
    time,
    first[5] ?? "1",
    "X",
    first[7] ?? "004010",
  ]);
  envelope.groups.forEach((received, index) => {
    const ack = group.addTransaction();
    ack.setHeader(["997", String(index + 1).padStart(4, "0")]);
    ack.addSegment("AK1", [received.gs[0] ?? "", received.gs[5] ?? ""]);
    let accepted = 0;
    for (const set of received.sets) {
      const judged = verdict(set);
      ack.addSegment("AK2", [set.type, set.control]);
      if (judged.accepted) accepted++;
      ack.addSegment("AK5", judged.accepted ? ["A"] : ["R", ...(judged.code ? [judged.code] : [])]);
    }
    const count = String(received.sets.length);
    const state = accepted === received.sets.length ? "A" : accepted === 0 ? "R" : "P";
    ack.addSegment("AK9", [state, count, count, String(accepted)]);
  });
  return interchange.toString();
}

import { describe, expect, it } from "vitest";
import type { CommitDocument } from "./commits.js";
import { inStreamOrder } from "./outbox-relay.js";

const commit = (streamId: string, version: number) =>
  ({ _id: `${streamId}@${version}`, streamId, version }) as CommitDocument;

describe("the relay's batch order", () => {
  it("keeps the recording order but puts each stream's commits in version order", () => {
    // Two instances whose clocks disagree recorded a@2 before a@1.
    const batch = [commit("a", 2), commit("b", 1), commit("a", 1), commit("b", 2), commit("a", 3)];
    expect(inStreamOrder(batch).map((c) => c._id)).toEqual(["a@1", "b@1", "a@2", "b@2", "a@3"]);
  });
});

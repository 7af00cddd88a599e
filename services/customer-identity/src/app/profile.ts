import { CustomerStatus } from "@retail/contracts/retail/customer/v1/customer_pb";
import type { CustomerState, LinkedSource } from "../domain/customer.js";
import { UnknownCustomer } from "../domain/errors.js";
import { type GoldenRecord, goldenRecord, profileSources } from "../domain/golden.js";
import type { CustomerDeps } from "./ports.js";

/** A live customer with every customer merged into it: what callers see as one customer. */
export interface Profile {
  readonly root: CustomerState;
  /** The root first, then the customers merged into it (and into those), each once. */
  readonly members: readonly CustomerState[];
  /** Every source record of the profile (the newest observation of each). */
  readonly sources: readonly LinkedSource[];
  readonly golden: GoldenRecord;
}

/** Merges nest at most this deep; a longer chain means corrupted links, never a real history. */
const maxMergeDepth = 16;

/** The customer an id stands for today: itself, or the survivor it was merged into. */
export async function resolveRoot(
  deps: CustomerDeps,
  customerId: string,
): Promise<CustomerState | undefined> {
  let state = await deps.streams.load(customerId);
  for (let hop = 0; state?.status === CustomerStatus.MERGED && hop < maxMergeDepth; hop++) {
    state = await deps.streams.load(state.mergedInto);
  }
  return state;
}

export async function requireRoot(deps: CustomerDeps, customerId: string): Promise<CustomerState> {
  const root = await resolveRoot(deps, customerId);
  if (!root) throw new UnknownCustomer(`customer id ${customerId}`);
  return root;
}

/**
 * The profile of a live customer: it and every customer merged into it, loaded from their streams
 * except those given in `decided` (states a decision is about to write, to see what it would make).
 */
export async function loadProfile(
  deps: CustomerDeps,
  root: CustomerState,
  decided: ReadonlyMap<string, CustomerState> = new Map(),
): Promise<Profile> {
  const members: CustomerState[] = [decided.get(root.customerId) ?? root];
  const seen = new Set([root.customerId]);
  for (let i = 0; i < members.length && i < 1_000; i++) {
    const absorbed = members[i]?.absorbed ?? [];
    const loaded = await Promise.all(
      absorbed.filter((id) => !seen.has(id)).map(async (id) => decided.get(id) ?? deps.streams.load(id)),
    );
    for (const member of loaded) {
      if (!member || seen.has(member.customerId)) continue;
      seen.add(member.customerId);
      members.push(member);
    }
  }
  return profileOf(deps, members);
}

/** A profile from members already at hand (the root first): what a decision would make of them. */
export function profileOf(
  deps: Pick<CustomerDeps, "sourceSystems">,
  members: readonly CustomerState[],
): Profile {
  const root = members[0];
  if (!root) throw new Error("a profile has at least its root");
  const sources = profileSources(members);
  return { root, members, sources, golden: goldenRecord(sources, deps.sourceSystems) };
}

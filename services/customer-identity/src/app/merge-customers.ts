import { create } from "@bufbuild/protobuf";
import {
  CustomersMergedSchema,
  CustomerUnmergedSchema,
  CustomerUpdatedSchema,
} from "@retail/contracts/retail/customer/v1/customer_events_pb";
import { type Customer, CustomerStatus } from "@retail/contracts/retail/customer/v1/customer_pb";
import { event, type NewEvent, type RequestRef, requestKey } from "@retail/platform/store";
import { type CustomerState, evolve, isLive } from "../domain/customer.js";
import { CustomerNotLive, MergeRefused, UnknownCustomer, UnknownMergeCandidate } from "../domain/errors.js";
import { changedAttributes } from "../domain/golden.js";
import { getCustomer, toCustomer } from "./get-customer.js";
import type { CustomerDeps } from "./ports.js";
import { loadProfile, type Profile, resolveRoot } from "./profile.js";

export interface MergeCustomers {
  readonly request: RequestRef;
  readonly survivorId: string;
  readonly mergedIds: readonly string[];
  readonly candidateId: string;
}

export interface UnmergeCustomer {
  readonly request: RequestRef;
  readonly customerId: string;
  readonly restoredId: string;
}

/** The survivor's stream gets its golden record's changes announced with every merge or unmerge. */
function updatedEvent(before: Profile, after: Profile): NewEvent[] {
  const changed = changedAttributes(before.golden, after.golden);
  return changed.length === 0
    ? []
    : [
        event(
          CustomerUpdatedSchema,
          create(CustomerUpdatedSchema, { customer: toCustomer(after), changedFields: changed }),
        ),
      ];
}

async function live(deps: CustomerDeps, customerId: string, action: string): Promise<CustomerState> {
  const state = await deps.streams.load(customerId);
  if (!state) throw new UnknownCustomer(`customer id ${customerId}`);
  if (!isLive(state)) throw new CustomerNotLive(customerId, state.status, action);
  return state;
}

/**
 * Merges customers into a survivor. Each merged customer's stream records the merge first (its ids
 * then resolve to the survivor), then the survivor's stream, which holds the request id: a retry after
 * a crash in between finishes the merge. The merged customers keep their own links and history, so
 * an unmerge can give them back.
 */
export async function mergeCustomers(deps: CustomerDeps, command: MergeCustomers): Promise<Customer> {
  const hash = command.request.fingerprint;
  const key = requestKey("customer.MergeCustomers", command.request.id);
  if (await deps.streams.findRequest({ key, fingerprint: hash }))
    return getCustomer(deps, command.survivorId);
  const ids = command.mergedIds;
  if (new Set(ids).size !== ids.length)
    throw new MergeRefused("DUPLICATE_ID", "merged_customer_ids repeats an id");
  if (ids.includes(command.survivorId))
    throw new MergeRefused("SELF_MERGE", "a customer cannot be merged into itself");
  if (command.candidateId && !(await deps.candidates.get(command.candidateId))) {
    throw new UnknownMergeCandidate(command.candidateId);
  }
  const survivor = await live(deps, command.survivorId, "merge into it");
  for (const mergedId of ids) {
    const mergedKey = { key: `${key}:${mergedId}`, fingerprint: hash };
    if (await deps.streams.findRequest(mergedKey)) continue; // done before a crash
    const merged = await live(deps, mergedId, "merge it");
    const mergedEvent = create(CustomersMergedSchema, {
      survivorCustomerId: survivor.customerId,
      mergedCustomerIds: [mergedId],
    });
    await deps.streams.append(mergedId, merged.version, [event(CustomersMergedSchema, mergedEvent)], {
      request: mergedKey,
    });
  }
  const before = await loadProfile(deps, survivor);
  const merge = create(CustomersMergedSchema, {
    survivorCustomerId: survivor.customerId,
    mergedCustomerIds: [...ids],
  });
  const survivorAfter = evolve(survivor, merge, survivor.version + 1, deps.clock.now());
  const after = await loadProfile(deps, survivorAfter);
  await deps.streams.append(
    survivor.customerId,
    survivor.version,
    [event(CustomersMergedSchema, merge), ...updatedEvent(before, after)],
    { request: { key, fingerprint: hash } },
  );
  if (command.candidateId) await deps.candidates.resolve(command.candidateId);
  return getCustomer(deps, survivor.customerId);
}

/**
 * Splits a merged-away customer back out of its survivor: the restored customer gets its own links,
 * consents and accounts back (they never left its stream) and its earlier status; the survivor stops
 * including them. Records linked to the survivor after the merge stay with the survivor.
 */
export async function unmergeCustomer(
  deps: CustomerDeps,
  command: UnmergeCustomer,
): Promise<{ customer: Customer; restored: Customer }> {
  const hash = command.request.fingerprint;
  const key = requestKey("customer.UnmergeCustomer", command.request.id);
  const restoredKey = { key: `${key}:${command.restoredId}`, fingerprint: hash };
  if (!(await deps.streams.findRequest({ key, fingerprint: hash }))) {
    const survivor = await deps.streams.load(command.customerId);
    if (!survivor) throw new UnknownCustomer(`customer id ${command.customerId}`);
    if (!survivor.absorbed.includes(command.restoredId)) {
      throw new MergeRefused(
        "NOT_MERGED_INTO",
        `customer ${command.restoredId} is not merged into customer ${command.customerId}`,
      );
    }
    const root = await resolveRoot(deps, survivor.customerId);
    const before = await loadProfile(deps, root ?? survivor);
    if (!(await deps.streams.findRequest(restoredKey))) {
      const restored = await deps.streams.load(command.restoredId);
      if (!restored || restored.status !== CustomerStatus.MERGED) {
        throw new MergeRefused("NOT_MERGED_INTO", `customer ${command.restoredId} is not merged`);
      }
      const unmerged = create(CustomerUnmergedSchema, {
        customerId: survivor.customerId,
        restoredCustomerId: command.restoredId,
      });
      await deps.streams.append(
        command.restoredId,
        restored.version,
        [event(CustomerUnmergedSchema, unmerged)],
        {
          request: restoredKey,
        },
      );
    }
    const unmerge = create(CustomerUnmergedSchema, {
      customerId: survivor.customerId,
      restoredCustomerId: command.restoredId,
    });
    const survivorAfter = evolve(survivor, unmerge, survivor.version + 1, deps.clock.now());
    const after = await loadProfile(deps, before.root, new Map([[survivor.customerId, survivorAfter]]));
    await deps.streams.append(
      survivor.customerId,
      survivor.version,
      [event(CustomerUnmergedSchema, unmerge), ...updatedEvent(before, after)],
      { request: { key, fingerprint: hash } },
    );
  }
  return {
    customer: await getCustomer(deps, command.customerId),
    restored: await getCustomer(deps, command.restoredId),
  };
}

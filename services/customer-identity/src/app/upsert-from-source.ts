import { randomUUID } from "node:crypto";
import { create, equals } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  CustomerCreatedSchema,
  CustomerUpdatedSchema,
  SourceRecordLinkedSchema,
  SourceRecordUpdatedSchema,
} from "@retail/contracts/retail/customer/v1/customer_events_pb";
import {
  type Customer,
  CustomerStatus,
  type SourceRecord,
  SourceRecordSchema,
} from "@retail/contracts/retail/customer/v1/customer_pb";
import {
  type CommitRequest,
  ConcurrencyConflict,
  event,
  type NewEvent,
  type RequestRef,
  requestKey,
  retryOnConflict,
} from "@retail/platform/store";
import { type CustomerState, emptyCustomer, evolve, observedAt, sourceKeyOf } from "../domain/customer.js";
import { changedAttributes, keysOfRecord } from "../domain/golden.js";
import type { MatchKey, MatchKeyKind } from "../domain/match-keys.js";
import {
  bestMatch,
  isContradicted,
  type Match,
  mayAutoMerge,
  mergeCandidateIdOf,
  type StrongValues,
} from "../domain/merge-rules.js";
import { getCustomer, toCustomer } from "./get-customer.js";
import { claimAll, claimForLink, KeyClaimInFlight, liveOwner } from "./key-owners.js";
import { mergeCustomers } from "./merge-customers.js";
import type { AppliedRequest, CustomerDeps } from "./ports.js";
import { loadProfile, type Profile, profileOf, resolveRoot } from "./profile.js";

export interface UpsertFromSource {
  readonly request: RequestRef;
  /** Validated: known source system, well-formed email and phone, at least one identity attribute. */
  readonly record: SourceRecord;
}

export interface UpsertOutcome {
  readonly customer: Customer;
  readonly created: boolean;
  readonly mergeCandidateId: string;
}

/** What a commit remembers of its request, to answer a replay: ids only, never personal data. */
interface StoredOutcome {
  customerId: string;
  created: boolean;
  mergeCandidateId: string;
  /** Customers a new one was raised for review with: a replay raises the candidate again (once). */
  review?: string[];
}

/** Raises the candidate of a new customer whose record shares only a phone with other customers. */
function raiseHousehold(
  deps: CustomerDeps,
  customerId: string,
  review: readonly string[],
  sourceSystem: string,
) {
  return deps.candidates.raise(
    [customerId, ...review],
    ["phone"],
    `source record ${sourceSystem} shares only a phone with customers whose email or loyalty number differs`,
  );
}

const encoder = new TextEncoder();

function remember(request: Omit<CommitRequest, "result">, outcome: StoredOutcome): CommitRequest {
  return { ...request, result: encoder.encode(JSON.stringify(outcome)) };
}

const retryable = (error: unknown) =>
  error instanceof ConcurrencyConflict || error instanceof KeyClaimInFlight;

/**
 * Resolves a channel's record of a person: an update of a record already linked, a new link to the one
 * customer it matches, or a new customer. A record matching several customers links to the best match;
 * the merge rules then merge the others into it or raise a merge candidate for review. A repeated
 * request id answers with the first outcome; an observation older than the one held changes nothing.
 */
export async function upsertFromSource(
  deps: CustomerDeps,
  command: UpsertFromSource,
): Promise<UpsertOutcome> {
  const request = {
    key: requestKey("customer.UpsertFromSource", command.request.id),
    fingerprint: command.request.fingerprint,
  };
  const keys = keysOfRecord(command.record, deps.sourceSystems);
  const earlier = await deps.streams.findRequest(request);
  if (earlier) return replay(deps, earlier, keys, command.record.sourceSystem);
  return retryOnConflict(() => resolve(deps, command, keys, request), retryable, 60);
}

async function replay(
  deps: CustomerDeps,
  earlier: AppliedRequest,
  keys: readonly MatchKey[],
  sourceSystem: string,
): Promise<UpsertOutcome> {
  const stored = JSON.parse(new TextDecoder().decode(earlier.result ?? new Uint8Array())) as StoredOutcome;
  // The first attempt may have stopped before claiming its keys or raising its candidate: doing either
  // again is harmless (a candidate's id follows from its customers).
  await claimForLink(deps, keys, stored.customerId);
  if (stored.review?.length) await raiseHousehold(deps, stored.customerId, stored.review, sourceSystem);
  return { ...stored, customer: await getCustomer(deps, stored.customerId) };
}

async function resolve(
  deps: CustomerDeps,
  command: UpsertFromSource,
  keys: readonly MatchKey[],
  request: Omit<CommitRequest, "result">,
): Promise<UpsertOutcome> {
  const [sourceKey, ...identityKeys] = keys;
  if (!sourceKey) throw new Error("a record always has a source key");
  const linkedTo = await liveOwner(deps, sourceKey.id);
  if (linkedTo) return updateLinkedSource(deps, linkedTo, command.record, keys, request);

  const owners = await Promise.all(identityKeys.map((k) => liveOwner(deps, k.id)));
  const matches = new Map<string, { root: CustomerState; keys: MatchKeyKind[] }>();
  for (const [i, owner] of owners.entries()) {
    const root =
      owner && (owner.status === CustomerStatus.MERGED ? await resolveRoot(deps, owner.customerId) : owner);
    const kind = identityKeys[i]?.kind;
    if (!root || !kind || root.status === CustomerStatus.ERASED) continue;
    const match = matches.get(root.customerId) ?? { root, keys: [] };
    match.keys.push(kind);
    matches.set(root.customerId, match);
  }
  // Keys another customer holds stay with it (a shared phone); a new customer claims only free ones.
  const freeKeys = [sourceKey, ...identityKeys.filter((_, i) => !owners[i])];
  if (matches.size === 0) return createCustomer(deps, command.record, freeKeys, request, []);

  const profiles = await Promise.all([...matches.values()].map((m) => loadProfile(deps, m.root)));
  const recordValues = strongValues([command.record], deps);
  const all: Match[] = profiles.map((p) => ({
    customerId: p.root.customerId,
    keys: matches.get(p.root.customerId)?.keys ?? [],
    familyName: p.golden.familyName,
    createdAt: p.root.createdAt,
  }));
  const contradicted = all.filter((m, i) => {
    const customerValues = strongValues(
      (profiles[i] as Profile).sources.map((s) => s.record),
      deps,
    );
    return isContradicted(m, recordValues, customerValues, deps.mergeRules);
  });
  const candidates = all.filter((m) => !contradicted.includes(m));
  if (candidates.length === 0) {
    return createCustomer(
      deps,
      command.record,
      freeKeys,
      request,
      contradicted.map((c) => c.customerId),
    );
  }
  const best = bestMatch(candidates, deps.mergeRules);
  const others = candidates.filter((c) => c.customerId !== best.customerId);
  let mergeCandidateId = "";
  let target = profiles.find((p) => p.root.customerId === best.customerId) as Profile;
  if (others.length > 0 && mayAutoMerge(best, others, command.record.familyName, deps.mergeRules)) {
    await mergeCustomers(deps, {
      request: { ...command.request, id: `${command.request.id}:auto-merge` },
      survivorId: best.customerId,
      mergedIds: others.map((o) => o.customerId),
      candidateId: "",
    });
    const root = await resolveRoot(deps, best.customerId);
    if (!root) throw new ConcurrencyConflict(`customer:${best.customerId}`, 0);
    target = await loadProfile(deps, root);
  } else if (others.length > 0) {
    const matched = [...new Set(candidates.flatMap((c) => c.keys))];
    const candidate = await deps.candidates.raise(
      candidates.map((c) => c.customerId),
      matched,
      `source record ${command.record.sourceSystem} matched ${candidates.length} customers on ${matched.join(", ")}`,
    );
    mergeCandidateId = candidate.candidateId;
  }
  return linkSource(deps, target, command.record, keys, request, mergeCandidateId);
}

function sourceEvents(before: Profile, after: Profile, recordEvent: NewEvent): NewEvent[] {
  const changed = changedAttributes(before.golden, after.golden);
  const updated = create(CustomerUpdatedSchema, { customer: toCustomer(after), changedFields: changed });
  return changed.length > 0 ? [recordEvent, event(CustomerUpdatedSchema, updated)] : [recordEvent];
}

/** Emails and loyalty numbers of records, normalised: what a contradiction is judged on. */
function strongValues(records: readonly SourceRecord[], deps: CustomerDeps): StrongValues {
  const values = new Map<MatchKeyKind, Set<string>>();
  for (const record of records) {
    for (const key of keysOfRecord(record, deps.sourceSystems)) {
      if (key.kind === "source" || key.kind === "phone") continue;
      values.set(key.kind, (values.get(key.kind) ?? new Set()).add(key.value));
    }
  }
  return values;
}

/**
 * A new customer for a record that matched no one, or only customers it contradicts (those are raised
 * with it for review).
 */
async function createCustomer(
  deps: CustomerDeps,
  record: SourceRecord,
  keys: readonly MatchKey[],
  request: Omit<CommitRequest, "result">,
  review: readonly string[],
): Promise<UpsertOutcome> {
  const customerId = randomUUID();
  await claimAll(deps, keys, customerId);
  const now = deps.clock.now();
  const linked = create(SourceRecordLinkedSchema, {
    customerId,
    sourceLink: {
      sourceSystem: record.sourceSystem,
      sourceId: record.sourceId,
      linkTime: timestampFromDate(now),
    },
    sourceRecord: record,
  });
  let state = evolve(emptyCustomer(customerId), create(CustomerCreatedSchema, {}), 1, now);
  state = evolve(state, linked, 2, now);
  const profile = await loadProfile(deps, state);
  const created = create(CustomerCreatedSchema, { customer: toCustomer(profile) });
  const candidateId = review.length > 0 ? mergeCandidateIdOf([customerId, ...review]) : "";
  await deps.streams.append(
    customerId,
    0,
    [event(CustomerCreatedSchema, created), event(SourceRecordLinkedSchema, linked)],
    {
      request: remember(request, {
        customerId,
        created: true,
        mergeCandidateId: candidateId,
        review: [...review],
      }),
      occurredAt: now,
    },
  );
  if (review.length > 0) await raiseHousehold(deps, customerId, review, record.sourceSystem);
  return { customer: toCustomer(profile), created: true, mergeCandidateId: candidateId };
}

async function linkSource(
  deps: CustomerDeps,
  target: Profile,
  record: SourceRecord,
  keys: readonly MatchKey[],
  request: Omit<CommitRequest, "result">,
  mergeCandidateId: string,
): Promise<UpsertOutcome> {
  const root = target.root;
  const holder = target.members.find((m) => m.sources.has(sourceKeyOf(record)));
  if (holder) return updateLinkedSource(deps, holder, record, keys, request);
  const now = deps.clock.now();
  const linked = create(SourceRecordLinkedSchema, {
    customerId: root.customerId,
    sourceLink: {
      sourceSystem: record.sourceSystem,
      sourceId: record.sourceId,
      linkTime: timestampFromDate(now),
    },
    sourceRecord: record,
  });
  const rootAfter = evolve(root, linked, root.version + 1, now);
  const after = await loadProfile(deps, rootAfter);
  await deps.streams.append(
    root.customerId,
    root.version,
    sourceEvents(target, after, event(SourceRecordLinkedSchema, linked)),
    {
      request: remember(request, { customerId: root.customerId, created: false, mergeCandidateId }),
      occurredAt: now,
    },
  );
  await claimForLink(deps, keys, root.customerId);
  return { customer: toCustomer(after), created: false, mergeCandidateId };
}

/**
 * A newer observation of a record already linked: recorded on the stream that holds the link (a
 * merged-away customer keeps its links), announced as an update of the customer callers see.
 */
async function updateLinkedSource(
  deps: CustomerDeps,
  holder: CustomerState,
  record: SourceRecord,
  keys: readonly MatchKey[],
  request: Omit<CommitRequest, "result">,
): Promise<UpsertOutcome> {
  const root = (await resolveRoot(deps, holder.customerId)) ?? holder;
  const before = await loadProfile(deps, root);
  const now = deps.clock.now();
  const held = holder.sources.get(sourceKeyOf(record));
  const incoming = { record, linkedAt: held?.linkedAt ?? now };
  const unchanged =
    held && (observedAt(incoming) < observedAt(held) || equals(SourceRecordSchema, held.record, record));
  if (unchanged) return { customer: toCustomer(before), created: false, mergeCandidateId: "" };

  const updated = create(SourceRecordUpdatedSchema, { customerId: holder.customerId, sourceRecord: record });
  const holderAfter = evolve(holder, updated, holder.version + 1, now);
  const afterWithHolder = profileOf(
    deps,
    before.members.map((m) => (m.customerId === holder.customerId ? holderAfter : m)),
  );
  await deps.streams.append(
    holder.customerId,
    holder.version,
    sourceEvents(before, afterWithHolder, event(SourceRecordUpdatedSchema, updated)),
    {
      request: remember(request, { customerId: root.customerId, created: false, mergeCandidateId: "" }),
      occurredAt: now,
    },
  );
  const taken = await claimForLink(deps, keys, holder.customerId);
  const conflicting = taken.filter((t) => t.holder !== root.customerId && t.holder !== holder.customerId);
  let mergeCandidateId = "";
  if (conflicting.length > 0) {
    const candidate = await deps.candidates.raise(
      [root.customerId, ...new Set(conflicting.map((c) => c.holder))],
      [...new Set(conflicting.map((c) => c.key.kind))],
      `updated source record ${record.sourceSystem} shares ${conflicting.map((c) => c.key.kind).join(", ")} with another customer`,
    );
    mergeCandidateId = candidate.candidateId;
  }
  return { customer: toCustomer(afterWithHolder), created: false, mergeCandidateId };
}

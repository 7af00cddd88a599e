import type { MergeCandidate } from "@retail/contracts/retail/customer/v1/customer_pb";
import type { Logger } from "@retail/platform/log";
import type { AppendOptions, AppendResult, CommitRequest, NewEvent } from "@retail/platform/store";
import type { CustomerState } from "../domain/customer.js";
import type { SourceDirectory } from "../domain/golden.js";
import type { MergeRules } from "../domain/merge-rules.js";

/** Customer streams on the platform stream store, folded into CustomerState. */
export interface CustomerStreams {
  /** The folded stream, or undefined when the customer was never created. */
  load(customerId: string): Promise<CustomerState | undefined>;
  append(
    customerId: string,
    expectedVersion: number,
    events: readonly NewEvent[],
    options?: AppendOptions,
  ): Promise<AppendResult>;
  /** The customer and stored answer of a request already applied (IdempotencyKeyReused on another payload). */
  findRequest(request: Pick<CommitRequest, "key" | "fingerprint">): Promise<AppliedRequest | undefined>;
  /** Rewrites the stored history of an erased customer without its personal data. */
  redact(customerId: string): Promise<void>;
}

export interface AppliedRequest {
  readonly customerId: string;
  readonly result: Uint8Array | undefined;
}

/** Who holds a match key: the customer whose stream linked it first. */
export interface KeyClaim {
  readonly customerId: string;
  readonly claimedAt: Date;
}

/**
 * The match-key index: one owner per normalised key, claimed with an insert against a unique key, so
 * two writers registering the same email at once cannot both own it.
 */
export interface MatchKeyIndex {
  owner(keyId: string): Promise<KeyClaim | undefined>;
  /** Claims a key for a customer; returns the owner afterwards (another customer when it was taken). */
  claim(keyId: string, customerId: string): Promise<KeyClaim>;
  /** Releases a key only if this customer holds it. */
  release(keyId: string, customerId: string): Promise<void>;
  releaseAll(customerId: string): Promise<void>;
}

export interface CandidatePage {
  readonly candidates: MergeCandidate[];
  readonly nextPageToken: string;
}

/** Merge candidates waiting for review; raising the same set of customers twice is one candidate. */
export interface MergeCandidates {
  raise(
    customerIds: readonly string[],
    matchedKeys: readonly string[],
    reason: string,
  ): Promise<MergeCandidate>;
  get(candidateId: string): Promise<MergeCandidate | undefined>;
  listOpen(pageSize: number, pageToken: string): Promise<CandidatePage>;
  resolve(candidateId: string): Promise<void>;
}

export interface Clock {
  now(): Date;
}

/** What every customer use case is given (compose.ts builds it). */
export interface CustomerDeps {
  readonly streams: CustomerStreams;
  readonly keys: MatchKeyIndex;
  readonly candidates: MergeCandidates;
  readonly sourceSystems: SourceDirectory;
  readonly mergeRules: MergeRules;
  readonly clock: Clock;
  readonly logger: Logger;
  /** A key claim whose customer stream is still missing after this long was left by a crash. */
  readonly claimGraceMs: number;
}

import { randomUUID } from "node:crypto";
import { Binary, type Collection } from "mongodb";
import { currentCallContext, formatTraceparent } from "../rpc/context.js";
import { encodeEvent, type NewEvent, routingKeyOf, type StoredEvent } from "./events.js";

/**
 * One stored document is one commit: the events a single decision produced, appended atomically.
 * `version` is the commit's first stream version and is unique per stream, so of two writers that read
 * the same version exactly one can insert (an insert against a unique index is atomic on MongoDB and
 * FerretDB alike). A commit made for a request has the request key as _id: a replay hits the same key.
 */
export interface CommitDocument {
  _id: string;
  streamId: string;
  version: number;
  lastVersion: number;
  events: Array<{ eventId: string; version: number; type: string; routingKey: string; data: Binary }>;
  occurredAt: Date;
  recordedAt: Date;
  /**
   * The minute it was recorded in ("2026-11-27T22:58", UTC): what "recorded since" reads by, with one
   * equality per minute. FerretDB on PostgreSQL pushes an equality down to an index, not a range: a
   * range on recordedAt reads every commit ever made.
   */
  recordedMinute?: string;
  correlationId: string;
  causationId: string;
  traceparent: string;
  /** The fingerprint of the request this commit answers (see fingerprint in requests.ts). */
  requestFingerprint?: string;
  /** Written before fingerprints were one; read only (a replay of such a commit is by key). */
  requestHash?: string;
  result?: Binary;
}

/**
 * The outbox: a copy of each commit not yet published, written before the commit and marked ready
 * once the commit is in; removed when the broker confirmed its events. The relay reads only this small
 * collection, never the whole history (FerretDB 1.x answers filters with sequential scans).
 */
export type OutboxMarker = CommitDocument & { ready: boolean };

/** The request a commit answers: its key (see requestKey) and its fingerprint. */
export interface CommitRequest {
  readonly key: string;
  readonly fingerprint: string;
  /** The answer to store with the commit and return for a replay (an encoded response, usually). */
  readonly result?: Uint8Array;
}

export interface AppendOptions {
  readonly request?: CommitRequest;
  /** Defaults to the current call context's correlation id (or a new one). */
  readonly correlationId?: string;
  /** The command request or event that caused the append; defaults to the request key. */
  readonly causationId?: string;
  readonly occurredAt?: Date;
}

/** One append of a bulk write. */
export interface AppendItem {
  readonly streamId: string;
  readonly expectedVersion: number;
  readonly events: readonly NewEvent[];
  readonly options?: AppendOptions;
}

export function toStoredEvents(commit: CommitDocument): StoredEvent[] {
  return commit.events.map((e) => ({
    eventId: e.eventId,
    streamId: commit.streamId,
    version: e.version,
    type: e.type,
    routingKey: e.routingKey,
    data: e.data.buffer,
    occurredAt: commit.occurredAt,
    correlationId: commit.correlationId,
    causationId: commit.causationId,
    traceparent: commit.traceparent,
  }));
}

/** Builds the document of one commit: its events encoded and stamped, its request and context. */
export function buildCommit(item: AppendItem): CommitDocument {
  const { streamId, expectedVersion, events, options: appendOptions = {} } = item;
  if (events.length === 0) throw new Error(`append to ${streamId} without events`);
  const context = currentCallContext();
  const occurredAt = appendOptions.occurredAt ?? new Date();
  const correlationId = appendOptions.correlationId ?? context?.correlationId ?? randomUUID();
  const request = appendOptions.request;
  const causationId = appendOptions.causationId ?? request?.key ?? "";
  const stored = events.map((newEvent, index) => {
    const eventId = randomUUID();
    const version = expectedVersion + index + 1;
    const data = encodeEvent(newEvent, {
      eventId,
      streamId,
      version,
      occurredAt,
      correlationId,
      causationId,
    });
    const type = newEvent.schema.typeName;
    return { eventId, version, type, routingKey: routingKeyOf(type), data: new Binary(data) };
  });
  const recordedAt = new Date();
  return {
    _id: request?.key ?? `commit:${randomUUID()}`,
    streamId,
    version: expectedVersion + 1,
    lastVersion: expectedVersion + events.length,
    events: stored,
    occurredAt,
    recordedAt,
    recordedMinute: minuteOf(recordedAt),
    correlationId,
    causationId,
    traceparent: context ? formatTraceparent(context.trace) : "",
    ...(request ? { requestFingerprint: request.fingerprint } : {}),
    ...(request?.result ? { result: new Binary(request.result) } : {}),
  };
}

/** Inserts documents unordered; returns the indexes refused as duplicates (other errors throw). */
export async function insertAll<T extends { _id: string }>(
  collection: Collection<T>,
  docs: T[],
): Promise<Set<number>> {
  if (docs.length === 0) return new Set();
  try {
    await collection.insertMany(docs as never, { ordered: false });
    return new Set();
  } catch (error) {
    const writeErrors = (
      error as { writeErrors?: Array<{ index: number; code: number }> | { index: number; code: number } }
    ).writeErrors;
    const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
    if (list.length === 0 || list.some((e) => e.code !== 11000)) throw error;
    return new Set(list.map((e) => e.index));
  }
}

/** The UTC minute a time falls in, as commits record it ("2026-11-27T22:58"). */
export function minuteOf(time: Date): string {
  return time.toISOString().slice(0, 16);
}

import { createHash, randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { Binary, type Collection, type Db } from "mongodb";
import { currentCallContext, formatTraceparent } from "../rpc/context.js";
import { ConcurrencyConflict, IdempotencyKeyReused, isDuplicateKey } from "./errors.js";
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
  correlationId: string;
  causationId: string;
  traceparent: string;
  requestHash?: string;
  result?: Binary;
}

/**
 * The outbox: a copy of each commit not yet published, written before the commit and marked ready
 * once the commit is in; removed when the broker confirmed its events. The relay reads only this small
 * collection, never the whole history (FerretDB 1.x answers filters with sequential scans).
 */
export type OutboxMarker = CommitDocument & { ready: boolean };

/** The request a commit answers: its key (see requestKey) and a hash of its payload. */
export interface CommitRequest {
  readonly key: string;
  readonly payloadHash: string;
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

export interface AppendResult {
  /** The stream's version after the commit. */
  readonly version: number;
  readonly events: readonly StoredEvent[];
  /** True when the request had already been applied: nothing new was written. */
  readonly replayed: boolean;
  readonly result: Uint8Array | undefined;
}

export interface Snapshot<State> {
  readonly version: number;
  readonly state: State;
}

/** Append-only event streams with optimistic concurrency and request idempotency. */
export interface StreamStore {
  /** Appends events at expectedVersion + 1; throws ConcurrencyConflict when the stream moved on. */
  append(
    streamId: string,
    expectedVersion: number,
    events: readonly NewEvent[],
    options?: AppendOptions,
  ): Promise<AppendResult>;
  /**
   * Many appends in two round trips (bulk imports, initial stock loads): each item succeeds or fails
   * on its own exactly as append would (a replayed request answers with its first result; a conflict
   * or reused key comes back as that item's error). Items must be on different streams.
   */
  appendMany(items: readonly AppendItem[]): Promise<Array<AppendResult | Error>>;
  /** The events of a stream after a version, in order. */
  read(streamId: string, afterVersion?: number): Promise<StoredEvent[]>;
  /**
   * The earlier result of a request, when it was applied already; throws IdempotencyKeyReused when the
   * key was used for another payload. Call before deciding, so a replay does not decide twice.
   */
  findRequest(request: Pick<CommitRequest, "key" | "payloadHash">): Promise<AppendResult | undefined>;
  /** The newest snapshot (if any) and the events after it: what a decision needs to rebuild state. */
  load<State>(
    streamId: string,
  ): Promise<{ snapshot: Snapshot<State> | undefined; tail: StoredEvent[]; version: number }>;
  loadSnapshot<State>(streamId: string): Promise<Snapshot<State> | undefined>;
  /** Stores a snapshot unless a newer one is there. Snapshots are caches: the streams stay the truth. */
  saveSnapshot<State>(streamId: string, snapshot: Snapshot<State>): Promise<void>;
  /** Called after every successful append (the outbox relay wakes up on it). */
  onAppended(listener: () => void): () => void;
  readonly commits: Collection<CommitDocument>;
  readonly outbox: Collection<OutboxMarker>;
  /** Commits recorded but not yet confirmed by the broker. */
  unpublishedCount(): Promise<number>;
  ensureIndexes(): Promise<void>;
}

/** "<scope>:<request id>": scope names the operation ("inventory.RecordMovement") so ids never collide. */
export function requestKey(scope: string, requestId: string): string {
  return `${scope}:${requestId}`;
}

/** A stable hash of a request payload (encoded protobuf bytes or a canonical string). */
export function payloadHash(payload: Uint8Array | string): string {
  return createHash("sha256").update(payload).digest("hex");
}

function toStoredEvents(commit: CommitDocument): StoredEvent[] {
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

export function commitToStoredEvents(commit: unknown): StoredEvent[] {
  return toStoredEvents(commit as CommitDocument);
}

function replayOf(commit: CommitDocument, request: Pick<CommitRequest, "key" | "payloadHash">): AppendResult {
  if (commit.requestHash !== request.payloadHash) throw new IdempotencyKeyReused(request.key);
  return {
    version: commit.lastVersion,
    events: toStoredEvents(commit),
    replayed: true,
    result: commit.result?.buffer,
  };
}

/** Inserts documents unordered; returns the indexes refused as duplicates (other errors throw). */
async function insertAll<T extends { _id: string }>(
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

export function createStreamStore(
  db: Db,
  options: {
    collection?: string /** appendMany waits while more commits than this await the relay */;
    maxBacklog?: number;
  } = {},
): StreamStore {
  const maxBacklog = options.maxBacklog ?? 2_000;
  const commits = db.collection<CommitDocument>(options.collection ?? "commits");
  const outbox = db.collection<OutboxMarker>(`${options.collection ?? "commits"}.outbox`);
  const snapshots = db.collection<{ _id: string; version: number; state: unknown; savedAt: Date }>(
    "snapshots",
  );
  const appended = new EventEmitter();

  async function findRequest(request: Pick<CommitRequest, "key" | "payloadHash">) {
    const commit = await commits.findOne({ _id: request.key });
    return commit ? replayOf(commit, request) : undefined;
  }

  function buildCommit(item: AppendItem): CommitDocument {
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
    return {
      _id: request?.key ?? `commit:${randomUUID()}`,
      streamId,
      version: expectedVersion + 1,
      lastVersion: expectedVersion + events.length,
      events: stored,
      occurredAt,
      recordedAt: new Date(),
      correlationId,
      causationId,
      traceparent: context ? formatTraceparent(context.trace) : "",
      ...(request ? { requestHash: request.payloadHash } : {}),
      ...(request?.result ? { result: new Binary(request.result) } : {}),
    };
  }

  function accepted(commit: CommitDocument, request: CommitRequest | undefined): AppendResult {
    return {
      version: commit.lastVersion,
      events: toStoredEvents(commit),
      replayed: false,
      result: request?.result,
    };
  }

  /** A commit that hit a unique key: the first answer to its request, or a concurrency conflict. */
  async function refused(commit: CommitDocument, request: CommitRequest | undefined): Promise<AppendResult> {
    const earlier = request ? await findRequest(request) : undefined;
    if (earlier) return earlier;
    throw new ConcurrencyConflict(commit.streamId, commit.version - 1);
  }

  async function read(streamId: string, afterVersion = 0): Promise<StoredEvent[]> {
    const found = await commits
      .find({ streamId, lastVersion: { $gt: afterVersion } })
      .sort({ version: 1 })
      .toArray();
    return found.flatMap(toStoredEvents).filter((e) => e.version > afterVersion);
  }

  async function loadSnapshot<State>(streamId: string): Promise<Snapshot<State> | undefined> {
    const doc = await snapshots.findOne({ _id: streamId });
    return doc ? { version: doc.version, state: doc.state as State } : undefined;
  }

  return {
    commits,
    outbox,
    unpublishedCount: () => outbox.countDocuments({}),
    async ensureIndexes() {
      await commits.createIndex({ streamId: 1, version: 1 }, { unique: true, name: "stream_version_unique" });
      await commits.createIndex({ streamId: 1, lastVersion: 1 }, { name: "stream_last_version" });
      await outbox.createIndex({ recordedAt: 1 }, { name: "recorded" });
    },

    async append(streamId, expectedVersion, events, appendOptions = {}) {
      const commit = buildCommit({ streamId, expectedVersion, events, options: appendOptions });
      // The marker goes first: a crash before the commit leaves a marker without a commit (the relay
      // checks and drops it), never a commit without a marker (which would never be published).
      const marked = await outbox.insertOne({ ...commit, ready: false }).then(
        () => true,
        (error: unknown) => {
          if (isDuplicateKey(error)) return false; // a replay whose first commit is still unpublished
          throw error;
        },
      );
      try {
        await commits.insertOne(commit);
      } catch (error) {
        if (marked) await outbox.deleteOne({ _id: commit._id }).catch(() => {});
        if (!isDuplicateKey(error)) throw error;
        return refused(commit, appendOptions.request);
      }
      if (marked) await outbox.updateOne({ _id: commit._id }, { $set: { ready: true } });
      appended.emit("appended");
      return accepted(commit, appendOptions.request);
    },

    async appendMany(items) {
      // Backpressure: a bulk load waits while the relay is behind, so the outbox stays small (every
      // query on it is a scan on FerretDB) and the load goes no faster than the broker takes it.
      const deadline = Date.now() + 60_000;
      while ((await outbox.countDocuments({})) > maxBacklog && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const built = items.map((item) => buildCommit(item));
      const markerDuplicates = await insertAll(
        outbox,
        built.map((c) => ({ ...c, ready: false })),
      );
      const failed = await insertAll(commits, built);
      const landed = built.filter((_, i) => !failed.has(i) && !markerDuplicates.has(i)).map((c) => c._id);
      if (landed.length > 0) await outbox.updateMany({ _id: { $in: landed } }, { $set: { ready: true } });
      const results = await Promise.all(
        built.map(async (commit, i) => {
          if (!failed.has(i)) return accepted(commit, items[i]?.options?.request);
          if (!markerDuplicates.has(i)) await outbox.deleteOne({ _id: commit._id }).catch(() => {});
          return refused(commit, items[i]?.options?.request).catch((error: unknown) => error as Error);
        }),
      );
      if (failed.size < built.length) appended.emit("appended");
      return results;
    },

    read,

    findRequest,

    async load<State>(streamId: string) {
      const snapshot = await loadSnapshot<State>(streamId);
      const tail = await read(streamId, snapshot?.version ?? 0);
      return { snapshot, tail, version: tail.at(-1)?.version ?? snapshot?.version ?? 0 };
    },

    loadSnapshot,

    async saveSnapshot(streamId, snapshot) {
      const current = await snapshots.findOne({ _id: streamId }, { projection: { version: 1 } });
      if (current && current.version >= snapshot.version) return;
      await snapshots.replaceOne(
        { _id: streamId },
        { version: snapshot.version, state: snapshot.state, savedAt: new Date() },
        { upsert: true },
      );
    },

    onAppended(listener) {
      appended.on("appended", listener);
      return () => appended.off("appended", listener);
    },
  };
}

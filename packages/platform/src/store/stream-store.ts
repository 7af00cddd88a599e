import { EventEmitter } from "node:events";
import { Binary, type Db } from "mongodb";
import {
  type AppendItem,
  type AppendOptions,
  buildCommit,
  type CommitDocument,
  type CommitRequest,
  insertAll,
  minuteOf,
  type OutboxMarker,
  toStoredEvents,
} from "./commits.js";
import { ConcurrencyConflict, IdempotencyKeyReused, isDuplicateKey } from "./errors.js";
import type { NewEvent, StoredEvent } from "./events.js";

export {
  type AppendItem,
  type AppendOptions,
  type CommitDocument,
  type CommitRequest,
  insertAll,
  type OutboxMarker,
  toStoredEvents,
} from "./commits.js";

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
  /**
   * The events of a stream after a version, in order. `endsCommit`: the version is a state's (folded
   * from whole commits), so the stream needs no read to tell it is not inside a commit.
   */
  read(streamId: string, afterVersion?: number, options?: { endsCommit?: boolean }): Promise<StoredEvent[]>;
  /**
   * A decision's read and its replay check in one: the stream's events and, when `request` was
   * applied on this stream, its first result (throws IdempotencyKeyReused when the key came with
   * another payload). A request applied on another stream is not seen here; its append finds it (the
   * key collides) and answers with the first result all the same.
   */
  readFor(
    streamId: string,
    request: Pick<CommitRequest, "key" | "fingerprint">,
  ): Promise<{ events: StoredEvent[]; applied: AppendResult | undefined }>;
  /**
   * The earlier result of a request, when it was applied already; throws IdempotencyKeyReused when the
   * key was used for another payload. Call before deciding, so a replay does not decide twice.
   */
  findRequest(request: Pick<CommitRequest, "key" | "fingerprint">): Promise<AppendResult | undefined>;
  /** The newest snapshot (if any) and the events after it: what a decision needs to rebuild state. */
  load<State>(
    streamId: string,
  ): Promise<{ snapshot: Snapshot<State> | undefined; tail: StoredEvent[]; version: number }>;
  loadSnapshot<State>(streamId: string): Promise<Snapshot<State> | undefined>;
  /** Stores a snapshot unless a newer one is there. Snapshots are caches: the streams stay the truth. */
  saveSnapshot<State>(streamId: string, snapshot: Snapshot<State>): Promise<void>;
  /**
   * Rewrites a stream's stored events in place, for erasure: each event's body through `transform`
   * (undefined leaves it as it is), in its commit and in the outbox copy of a commit not yet published
   * (so the broker gets the rewritten one). Versions, ids and order stay; returns how many events
   * changed. The one change to history the store allows.
   */
  rewrite(streamId: string, transform: (event: StoredEvent) => Uint8Array | undefined): Promise<number>;
  /**
   * Every event of every stream whose id starts with `prefix`, stream by stream in version order
   * (rebuilding read models and in-memory catalogs).
   */
  readStreams(prefix: string): AsyncIterable<StoredEvent>;
  /** The ids of streams starting with `prefix` that had a commit recorded at or after `since`. */
  streamsRecordedSince(prefix: string, since: Date): Promise<string[]>;
  /** The relay's view of the outbox: the oldest markers, whether a marker's commit landed, settle. */
  outboxBatch(limit: number): Promise<OutboxMarker[]>;
  hasCommit(commitId: string): Promise<boolean>;
  settleOutbox(commitIds: readonly string[]): Promise<void>;
  /** Called after every successful append (the outbox relay wakes up on it). */
  onAppended(listener: () => void): () => void;
  /** Commits recorded but not yet confirmed by the broker. */
  unpublishedCount(): Promise<number>;
  ensureIndexes(): Promise<void>;
}

/** Text as a regular expression that matches it literally (for $regex filters on ids). */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * The first answer to a request applied before. A commit written before fingerprints were one (it
 * holds only the older `requestHash`) is a replay by its key alone: its hash cannot be compared.
 */
function replayOf(commit: CommitDocument, request: Pick<CommitRequest, "key" | "fingerprint">): AppendResult {
  const comparable = commit.requestFingerprint !== undefined || commit.requestHash === undefined;
  if (comparable && commit.requestFingerprint !== request.fingerprint)
    throw new IdempotencyKeyReused(request.key);
  return {
    version: commit.lastVersion,
    events: toStoredEvents(commit),
    replayed: true,
    result: commit.result?.buffer,
  };
}

/** Commits a read after a version follows one by one before it reads the rest of the stream by range. */
const maxTailHops = 8;

/** Beyond two hours back, "recorded since" reads the history by range once rather than minute by minute. */
const maxMinutesByEquality = 120;

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

  async function findRequest(request: Pick<CommitRequest, "key" | "fingerprint">) {
    const commit = await commits.findOne({ _id: request.key });
    return commit ? replayOf(commit, request) : undefined;
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

  /** Every commit of a stream ending after a version (a range: the whole stream is read, see read). */
  async function commitsAfter(streamId: string, afterVersion: number) {
    return commits
      .find({ streamId, lastVersion: { $gt: afterVersion } })
      .sort({ version: 1 })
      .toArray();
  }

  /**
   * The events of a stream after a version. From the start, the whole stream. After a version, the
   * commits that follow it one by one, each by its first version (an equality on stream and version:
   * FerretDB pushes it down to the unique index, where a range on the version reads the whole stream,
   * and a SKU's stock stream grows by every movement). A tail longer than a few commits, or a version
   * inside a commit, is read by range.
   */
  async function read(
    streamId: string,
    afterVersion = 0,
    options: { endsCommit?: boolean } = {},
  ): Promise<StoredEvent[]> {
    if (afterVersion === 0)
      return (await commits.find({ streamId }).sort({ version: 1 }).toArray()).flatMap(toStoredEvents);
    const tail: CommitDocument[] = [];
    let after = afterVersion;
    for (let hop = 0; hop < maxTailHops; hop++) {
      const next = await commits.findOne({ streamId, version: after + 1 });
      if (!next) {
        // The end of the stream, when `after` ends a commit; otherwise it is inside one.
        if (options.endsCommit || tail.length > 0) return tail.flatMap(toStoredEvents);
        const boundary = await commits.findOne({ streamId, lastVersion: after }, { projection: { _id: 1 } });
        if (boundary) return [];
        break;
      }
      tail.push(next);
      after = next.lastVersion;
    }
    const rest = await commitsAfter(streamId, after);
    return [...tail, ...rest].flatMap(toStoredEvents).filter((e) => e.version > afterVersion);
  }

  async function readFor(streamId: string, request: Pick<CommitRequest, "key" | "fingerprint">) {
    const found = await commits.find({ streamId }).sort({ version: 1 }).toArray();
    const earlier = found.find((commit) => commit._id === request.key);
    return {
      events: found.flatMap(toStoredEvents),
      applied: earlier ? replayOf(earlier, request) : undefined,
    };
  }

  async function loadSnapshot<State>(streamId: string): Promise<Snapshot<State> | undefined> {
    const doc = await snapshots.findOne({ _id: streamId });
    return doc ? { version: doc.version, state: doc.state as State } : undefined;
  }

  const startingWith = (prefix: string) => ({ $regex: `^${escapeRegExp(prefix)}` });

  return {
    unpublishedCount: () => outbox.countDocuments({}),

    async *readStreams(prefix) {
      const cursor = commits.find({ streamId: startingWith(prefix) }).sort({ streamId: 1, version: 1 });
      for await (const commit of cursor) yield* toStoredEvents(commit);
    },

    async streamsRecordedSince(prefix, since) {
      // Minute by minute (an equality each, see recordedMinute), unless that is more minutes than a
      // range read of the whole history costs; a long outage is the only way to ask for so many.
      const minutes: string[] = [];
      for (let t = since.getTime(); t <= Date.now() + 60_000; t += 60_000)
        minutes.push(minuteOf(new Date(t)));
      if (minutes.length > maxMinutesByEquality)
        return commits.distinct("streamId", { recordedAt: { $gte: since }, streamId: startingWith(prefix) });
      const streams = new Set<string>();
      for (const recordedMinute of minutes) {
        const found = commits.find({ recordedMinute }, { projection: { streamId: 1, recordedAt: 1 } });
        for await (const commit of found)
          if (commit.streamId.startsWith(prefix) && commit.recordedAt >= since) streams.add(commit.streamId);
      }
      return [...streams];
    },

    outboxBatch: (limit) => outbox.find({}).sort({ recordedAt: 1 }).limit(limit).toArray(),

    async hasCommit(commitId) {
      return (await commits.countDocuments({ _id: commitId }, { limit: 1 })) > 0;
    },

    async settleOutbox(commitIds) {
      if (commitIds.length > 0) await outbox.deleteMany({ _id: { $in: [...commitIds] } });
    },
    async ensureIndexes() {
      await commits.createIndex({ streamId: 1, version: 1 }, { unique: true, name: "stream_version_unique" });
      await commits.createIndex({ streamId: 1, lastVersion: 1 }, { name: "stream_last_version" });
      await outbox.createIndex({ recordedAt: 1 }, { name: "recorded" });
      // Read models catch up by what was recorded since they last looked, minute by minute.
      await commits.createIndex({ recordedMinute: 1 }, { name: "recorded_minute" });
      // The recordedAt index of earlier versions: no read uses it, every commit paid for it.
      await commits.dropIndex("recorded").catch(() => undefined);
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
        // Any other error leaves the outcome unknown (the storage may have kept the commit and lost the
        // answer): the marker stays, and the relay publishes the commit if it is there, else drops it.
        if (!isDuplicateKey(error)) throw error;
        if (marked) await outbox.deleteOne({ _id: commit._id }).catch(() => {});
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

    readFor,

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

    async rewrite(streamId, transform) {
      let changed = 0;
      for (const commit of await commits.find({ streamId }).toArray()) {
        const stored = toStoredEvents(commit);
        let touched = false;
        const events = commit.events.map((e, i) => {
          const rewritten = transform(stored[i] as StoredEvent);
          if (!rewritten) return e;
          touched = true;
          changed++;
          return { ...e, data: new Binary(rewritten) };
        });
        if (!touched) continue;
        await commits.updateOne({ _id: commit._id }, { $set: { events } });
        await outbox.updateOne({ _id: commit._id }, { $set: { events } });
      }
      return changed;
    },

    onAppended(listener) {
      appended.on("appended", listener);
      return () => appended.off("appended", listener);
    },
  };
}

import { fromBinary } from "@bufbuild/protobuf";
import { StockMovementRecordedSchema } from "@retail/contracts/retail/inventory/v1/inventory_events_pb";
import type { StockMovement } from "@retail/contracts/retail/inventory/v1/inventory_pb";
import {
  ConcurrencyConflict,
  isDuplicateKey,
  RecentlyUsed,
  type StoredEvent,
  type StreamStore,
} from "@retail/platform/store";
import type { Db } from "mongodb";
import type { StockLedger } from "../../app/ports.js";
import { emptyPosition, evolve, type Movement, type PositionState } from "../../domain/stock-position.js";
import { positionFromEvent } from "../position-codec.js";

const movementType = StockMovementRecordedSchema.typeName;
const streamPrefix = "stock:";

export function stockStreamId(sku: string, locationId: string): string {
  return `${streamPrefix}${sku}@${locationId}`;
}

function toMovement(m: StockMovement): Movement {
  return {
    movementId: m.movementId,
    type: m.type,
    sku: m.sku,
    locationId: m.locationId,
    quantity: Number(m.quantity),
    counterpartLocationId: m.counterpartLocationId,
    reservationId: m.reservationId,
    lineId: m.lineId,
    reason: m.reason,
  };
}

function positionReported(events: readonly StoredEvent[]): PositionState | undefined {
  const recorded = events.find((e) => e.type === movementType);
  if (!recorded) return undefined;
  const decoded = fromBinary(StockMovementRecordedSchema, recorded.data);
  return decoded.position ? positionFromEvent(decoded.position) : undefined;
}

function fold(state: PositionState, events: readonly StoredEvent[]): PositionState {
  let folded = state;
  for (const e of events) {
    const movement =
      e.type === movementType ? fromBinary(StockMovementRecordedSchema, e.data).movement : undefined;
    folded = movement ? evolve(folded, toMovement(movement), e.version) : { ...folded, version: e.version };
  }
  return folded;
}

type PositionDocument = PositionState & { _id: string; updatedAt: Date };

/**
 * The stock ledger on the platform stream store: one stream per SKU and location, and a `positions`
 * collection holding each position's latest state (a snapshot: loads read it plus the ledger tail
 * after it, so a stale or missing snapshot costs time, never correctness).
 */
export function createStockLedger(
  db: Db,
  store: StreamStore,
  options: { cacheSize?: number; snapshotEvery?: number } = {},
): StockLedger {
  const positions = db.collection<PositionDocument>("positions");
  const snapshotEvery = options.snapshotEvery ?? 16;
  // Positions this instance wrote or read last, so a load usually reads only the (empty) tail.
  const cache = new RecentlyUsed<string, PositionState>(options.cacheSize ?? 50_000);
  const remember = (streamId: string, state: PositionState) => cache.set(streamId, state);

  async function saveSnapshot(state: PositionState): Promise<void> {
    const _id = stockStreamId(state.sku, state.locationId);
    try {
      await positions.replaceOne(
        { _id, version: { $lt: state.version } },
        { ...state, updatedAt: new Date() },
        { upsert: true },
      );
    } catch (error) {
      if (!isDuplicateKey(error)) throw error; // a newer snapshot is there already
    }
  }

  async function load(sku: string, locationId: string): Promise<PositionState> {
    const streamId = stockStreamId(sku, locationId);
    const cached = cache.get(streamId);
    if (cached) {
      const current = fold(cached, await store.read(streamId, cached.version, { endsCommit: true }));
      remember(streamId, current);
      return current;
    }
    const snapshot = await positions.findOne({ _id: streamId });
    const base: PositionState = snapshot
      ? {
          sku,
          locationId,
          onHand: snapshot.onHand,
          reserved: snapshot.reserved,
          inTransit: snapshot.inTransit,
          damaged: snapshot.damaged,
          safetyStock: snapshot.safetyStock,
          holds: snapshot.holds,
          version: snapshot.version,
        }
      : emptyPosition(sku, locationId);
    const current = fold(base, await store.read(streamId, base.version, { endsCommit: true }));
    remember(streamId, current);
    return current;
  }

  return {
    async loadForWrite(sku, locationId) {
      return cache.get(stockStreamId(sku, locationId)) ?? load(sku, locationId);
    },

    load,

    async append({ before, after, events, request }) {
      const streamId = stockStreamId(before.sku, before.locationId);
      const result = await store
        .append(streamId, before.version, events, { request })
        .catch((error: unknown) => {
          if (error instanceof ConcurrencyConflict) cache.delete(streamId); // stale: the retry reads afresh
          throw error;
        });
      if (result.replayed) return { replayed: true, position: positionReported(result.events) ?? after };
      remember(streamId, after);
      // A snapshot on the first entry and then every `snapshotEvery` versions bounds the tail to fold.
      if (
        before.version === 0 ||
        Math.floor(after.version / snapshotEvery) > Math.floor(before.version / snapshotEvery)
      ) {
        await saveSnapshot(after);
      }
      return { replayed: false, position: after };
    },

    async appendFirst(items) {
      const results = await store.appendMany(
        items.map(({ after, events, request }) => ({
          streamId: stockStreamId(after.sku, after.locationId),
          expectedVersion: 0,
          events,
          options: { request },
        })),
      );
      const fresh: PositionDocument[] = [];
      const outcomes = results.map((result, i) => {
        const after = items[i]?.after;
        if (result instanceof Error || !after) return result instanceof Error ? result : new Error("no item");
        if (result.replayed) return { replayed: true, position: positionReported(result.events) ?? after };
        const streamId = stockStreamId(after.sku, after.locationId);
        remember(streamId, after);
        fresh.push({ ...after, _id: streamId, updatedAt: new Date() });
        return { replayed: false, position: after };
      });
      if (fresh.length > 0) {
        await positions.insertMany(fresh, { ordered: false }).catch((error: unknown) => {
          if (!isDuplicateKey(error) && !(error as { writeErrors?: unknown }).writeErrors) throw error;
        });
      }
      return outcomes;
    },

    async findApplied(request) {
      const earlier = await store.findRequest(request);
      return earlier ? positionReported(earlier.events) : undefined;
    },

    async movements(sku, locationId, afterVersion, limit) {
      const entries: Array<{ version: number; movement: StockMovement }> = [];
      for (const e of await store.read(stockStreamId(sku, locationId), afterVersion)) {
        if (e.type !== movementType) continue;
        const { movement } = fromBinary(StockMovementRecordedSchema, e.data);
        if (movement) entries.push({ version: e.version, movement });
        if (entries.length >= limit) break;
      }
      return entries;
    },

    async changedSince(since) {
      const streams = await store.streamsRecordedSince(streamPrefix, since);
      const changed: PositionState[] = [];
      for (const streamId of streams) {
        const [sku = "", locationId = ""] = streamId.slice(streamPrefix.length).split("@");
        changed.push(await load(sku, locationId));
      }
      return changed;
    },

    async latestPositions() {
      const found: PositionState[] = [];
      let stream: { id: string; last?: StoredEvent } | undefined;
      const finish = async () => {
        if (!stream) return;
        const reported = stream.last && positionReported([stream.last]);
        // A stream whose movements carry no position (none written so) is folded from its events.
        const [sku = "", locationId = ""] = stream.id.slice(streamPrefix.length).split("@");
        found.push(reported ?? (await load(sku, locationId)));
      };
      for await (const stored of store.readStreams(streamPrefix)) {
        if (stored.streamId !== stream?.id) {
          await finish();
          stream = { id: stored.streamId };
        }
        if (stored.type === movementType) stream.last = stored;
      }
      await finish();
      return found;
    },

    async rebuildAll() {
      const byStream = new Map<string, StoredEvent[]>();
      for await (const stored of store.readStreams(streamPrefix)) {
        const list = byStream.get(stored.streamId) ?? [];
        list.push(stored);
        byStream.set(stored.streamId, list);
      }
      return [...byStream.entries()].map(([streamId, events]) => {
        const [sku = "", locationId = ""] = streamId.slice(streamPrefix.length).split("@");
        return fold(emptyPosition(sku, locationId), events);
      });
    },
  };
}

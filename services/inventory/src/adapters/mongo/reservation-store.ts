import { isDeepStrictEqual } from "node:util";
import { type DescMessage, fromBinary } from "@bufbuild/protobuf";
import {
  ReservationCommittedSchema,
  ReservationConfirmedSchema,
  ReservationExpiredSchema,
  ReservationReleasedSchema,
  ReservationRequestedSchema,
  StockReservedSchema,
} from "@retail/contracts/retail/inventory/v1/inventory_events_pb";
import { ReservationStatus } from "@retail/contracts/retail/inventory/v1/inventory_pb";
import type { PlanStore, StoredEvent, StreamStore } from "@retail/platform/store";
import type { Db } from "mongodb";
import type { FulfilmentPlan, PlacedLine, ReservationStore } from "../../app/ports.js";
import {
  evolveReservation,
  isOpen,
  type ReservationEvent,
  type ReservationState,
} from "../../domain/reservation.js";

const schemas = new Map<string, DescMessage>(
  [
    ReservationRequestedSchema,
    StockReservedSchema,
    ReservationReleasedSchema,
    ReservationCommittedSchema,
    ReservationConfirmedSchema,
    ReservationExpiredSchema,
  ].map((s) => [s.typeName, s]),
);
const streamPrefix = "reservation:";

interface ReservationDocument {
  _id: string;
  orderId: string;
  status: ReservationStatus;
  /** Closed reservations stay to say where an order's lines were. */
  open: boolean;
  /**
   * Open and not held until fulfilled (pending, or waiting for its order's confirmation): the expiry
   * sweep's candidates, read every second by an equality filter. Not every open one: an accepted
   * order's hold can stay open for days, and there may be many.
   */
  expiring: boolean;
  expireTime: Date;
  createTime: Date;
  heldUntilFulfilled?: boolean;
  lines: PlacedLine[];
  /** The version last written here: a change that alters none of these fields is not written. */
  version: number;
}

/**
 * Reservations on the stream store (one stream each) and a `reservations` projection with status,
 * expiry and line locations: the sweep reads the ones that can expire (an equality filter), and an
 * order's entries say where its lines were held even after the holds ended. The projection entry is
 * written before a reservation's first event, so a crash in between leaves an entry the sweep finds and
 * forgets, never a reservation it cannot see. `plans` keeps what each order event decided, once.
 */
export function createReservationStore(
  db: Db,
  store: StreamStore,
  plans: PlanStore<FulfilmentPlan>,
): ReservationStore & { ensureIndexes(): Promise<void> } {
  const projection = db.collection<ReservationDocument>("reservations");

  function fold(events: readonly StoredEvent[]): ReservationState | undefined {
    let state: ReservationState | undefined;
    for (const stored of events) {
      const schema = schemas.get(stored.type);
      if (!schema) continue;
      state = evolveReservation(state, fromBinary(schema, stored.data) as ReservationEvent, stored.version);
    }
    return state;
  }

  async function load(reservationId: string): Promise<ReservationState | undefined> {
    return fold(await store.read(`${streamPrefix}${reservationId}`));
  }

  /** What the projection keeps of a reservation (besides its version). */
  const projected = (state: ReservationState) => ({
    orderId: state.orderId,
    status: state.status,
    open: isOpen(state),
    expiring: isOpen(state) && !state.heldUntilFulfilled,
    expireTime: state.expireTime,
    createTime: state.createTime,
    heldUntilFulfilled: state.heldUntilFulfilled,
    lines: state.lines.map((l) => ({ lineId: l.lineId, sku: l.sku, locationId: l.locationId })),
  });

  /** Writes the projection of `state`, unless nothing it keeps changed since `before` (a line shipped). */
  async function project(state: ReservationState, before: ReservationState | undefined): Promise<void> {
    const after = projected(state);
    if (before && isDeepStrictEqual(projected(before), after)) return;
    await projection.updateOne(
      { _id: state.reservationId },
      { $set: { ...after, version: state.version } },
      { upsert: true },
    );
  }

  return {
    async ensureIndexes() {
      await projection.createIndex({ expiring: 1 }, { name: "expiring" });
      await projection.createIndex({ orderId: 1 }, { name: "order" });
      // Entries written before `expiring` was (their version indexed `open` as "sweep"), once: the
      // open ones (the `open` equality keeps these reads to them) not held until fulfilled become the
      // sweep's candidates, the rest do not. The old index goes last, so a crash here does it again.
      if (await projection.indexExists("sweep")) {
        const unmarked = { open: true, expiring: { $exists: false } };
        await projection.updateMany(
          { ...unmarked, heldUntilFulfilled: { $ne: true } },
          { $set: { expiring: true } },
        );
        await projection.updateMany(unmarked, { $set: { expiring: false } });
        await projection.dropIndex("sweep");
      }
    },
    load,
    async append(reservationId, current, events, request) {
      const expectedVersion = current?.version ?? 0;
      if (expectedVersion === 0) {
        const now = new Date();
        await projection.updateOne(
          { _id: reservationId },
          {
            $setOnInsert: {
              status: ReservationStatus.PENDING,
              open: true,
              expiring: true,
              expireTime: now,
              createTime: now,
              lines: [],
              version: 0,
            },
          },
          { upsert: true },
        );
      }
      // An entry made above for a stream that did not come to be (a repeated or refused request) goes
      // at once; should that fail too, the sweep forgets it.
      const forgetNew = async () => {
        if (expectedVersion === 0) await projection.deleteOne({ _id: reservationId });
      };
      const result = await store
        .append(`${streamPrefix}${reservationId}`, expectedVersion, events, {
          ...(request ? { request } : {}),
        })
        .catch(async (error: unknown) => {
          await forgetNew().catch(() => undefined);
          throw error;
        });
      if (result.replayed) {
        // The request made its reservation under the id its first attempt chose, maybe not this one.
        const earlierId = result.events[0]?.streamId.slice(streamPrefix.length) ?? reservationId;
        if (earlierId !== reservationId) await forgetNew();
        const state = await load(earlierId);
        if (!state) throw new Error(`reservation ${earlierId} has a request record but no stream`);
        return { replayed: true, state };
      }
      // The events just written, folded onto the state they were decided on: no need to read them back.
      let state = current;
      events.forEach((e, i) => {
        state = evolveReservation(state, e.data as ReservationEvent, expectedVersion + i + 1);
      });
      if (!state) throw new Error(`append to reservation ${reservationId} without events`);
      await project(state, current);
      return { replayed: false, state };
    },
    async loadFor(reservationId, request) {
      const { events, applied } = await store.readFor(`${streamPrefix}${reservationId}`, request);
      return { state: fold(events), applied: applied !== undefined };
    },
    async due(now, pendingBefore) {
      const open = await projection
        .find({ expiring: true })
        .project<
          Pick<ReservationDocument, "_id" | "status" | "expireTime" | "createTime" | "heldUntilFulfilled">
        >({ status: 1, expireTime: 1, createTime: 1, heldUntilFulfilled: 1 })
        .toArray();
      return open
        .filter((d) =>
          d.status === ReservationStatus.PENDING
            ? d.createTime <= pendingBefore
            : !d.heldUntilFulfilled && d.expireTime <= now,
        )
        .slice(0, 500)
        .map((d) => d._id);
    },
    async forOrder(orderId) {
      const found = await projection.find({ orderId }).sort({ createTime: 1 }).toArray();
      return found.map((d) => ({ reservationId: d._id, open: d.open !== false, lines: d.lines ?? [] }));
    },
    planOnce: (eventId, make) => plans.once(eventId, make),
    async forget(reservationId) {
      await projection.deleteOne({ _id: reservationId });
    },
  };
}

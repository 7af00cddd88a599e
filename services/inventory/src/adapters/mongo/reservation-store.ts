import { type DescMessage, fromBinary } from "@bufbuild/protobuf";
import {
  ReservationCommittedSchema,
  ReservationExpiredSchema,
  ReservationReleasedSchema,
  ReservationRequestedSchema,
  StockReservedSchema,
} from "@retail/contracts/retail/inventory/v1/inventory_events_pb";
import { ReservationStatus } from "@retail/contracts/retail/inventory/v1/inventory_pb";
import type { StreamStore } from "@retail/platform/store";
import type { Db } from "mongodb";
import type { ReservationStore } from "../../app/ports.js";
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
    ReservationExpiredSchema,
  ].map((s) => [s.typeName, s]),
);
const streamPrefix = "reservation:";
const openStatuses = [ReservationStatus.ACTIVE, ReservationStatus.PARTIALLY_COMMITTED];

interface ReservationDocument {
  _id: string;
  orderId: string;
  status: ReservationStatus;
  expireTime: Date;
  createTime: Date;
  version: number;
}

/**
 * Reservations on the stream store (one stream each) and a `reservations` projection of the open ones,
 * with status and expiry, for the sweep. The projection entry is written before a reservation's first event, so a
 * crash in between leaves an entry the sweep finds and forgets, never a reservation it cannot see.
 */
export function createReservationStore(
  db: Db,
  store: StreamStore,
): ReservationStore & { ensureIndexes(): Promise<void> } {
  const projection = db.collection<ReservationDocument>("reservations");

  async function load(reservationId: string): Promise<ReservationState | undefined> {
    let state: ReservationState | undefined;
    for (const stored of await store.read(`${streamPrefix}${reservationId}`)) {
      const schema = schemas.get(stored.type);
      if (!schema) continue;
      state = evolveReservation(state, fromBinary(schema, stored.data) as ReservationEvent, stored.version);
    }
    return state;
  }

  /** Keeps only open reservations in the projection, so the sweep's query stays small. */
  async function project(state: ReservationState): Promise<void> {
    if (!isOpen(state)) {
      await projection.deleteOne({ _id: state.reservationId });
      return;
    }
    await projection.updateOne(
      { _id: state.reservationId },
      {
        $set: {
          orderId: state.orderId,
          status: state.status,
          expireTime: state.expireTime,
          createTime: state.createTime,
          version: state.version,
        },
      },
      { upsert: true },
    );
  }

  return {
    async ensureIndexes() {
      await projection.createIndex({ status: 1, expireTime: 1 }, { name: "sweep" });
    },
    load,
    async append(reservationId, current, events, request) {
      const expectedVersion = current?.version ?? 0;
      if (expectedVersion === 0) {
        const now = new Date();
        await projection.updateOne(
          { _id: reservationId },
          {
            $setOnInsert: { status: ReservationStatus.PENDING, expireTime: now, createTime: now, version: 0 },
          },
          { upsert: true },
        );
      }
      const result = await store.append(`${streamPrefix}${reservationId}`, expectedVersion, events, {
        ...(request ? { request } : {}),
      });
      if (result.replayed) {
        // The request made its reservation under the id its first attempt chose, maybe not this one.
        const earlierId = result.events[0]?.streamId.slice(streamPrefix.length) ?? reservationId;
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
      await project(state);
      return { replayed: false, state };
    },
    async findApplied(request) {
      const earlier = await store.findRequest(request);
      const streamId = earlier?.events[0]?.streamId;
      return streamId?.slice(streamPrefix.length);
    },
    async due(now, pendingBefore) {
      const found = await projection
        .find({
          $or: [
            { status: { $in: openStatuses }, expireTime: { $lte: now } },
            { status: ReservationStatus.PENDING, createTime: { $lte: pendingBefore } },
          ],
        })
        .project<{ _id: string }>({ _id: 1 })
        .limit(500)
        .toArray();
      return found.map((d) => d._id);
    },
    async openForOrder(orderId) {
      const found = await projection.find({ orderId }).project<{ _id: string }>({ _id: 1 }).toArray();
      return found.map((d) => d._id);
    },
    async forget(reservationId) {
      await projection.deleteOne({ _id: reservationId });
    },
  };
}

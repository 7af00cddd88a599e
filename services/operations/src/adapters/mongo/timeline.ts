import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { TraceEventSchema } from "@retail/contracts/retail/operations/v1/operations_pb";
import { ignoreDuplicateKey } from "@retail/platform/store";
import { Binary, type Db, type Filter } from "mongodb";
import type { Timeline } from "../../app/ports.js";

interface EventDocument {
  _id: string;
  correlationId: string;
  orderIds: string[];
  customerIds: string[];
  occurredAt: Date;
  receivedAt: Date;
  event: Binary;
}

/**
 * The events of the mesh as traces read them (`timeline`): one document per event (its id), with the
 * keys a trace looks it up by (correlation id, the orders and customers it names) beside its encoding.
 */
export function createTimeline(db: Db): Timeline & { ensureIndexes(): Promise<void> } {
  const events = db.collection<EventDocument>("timeline");
  return {
    async ensureIndexes() {
      await events.createIndex({ correlationId: 1, occurredAt: 1 });
      await events.createIndex({ orderIds: 1, occurredAt: 1 });
      await events.createIndex({ customerIds: 1, occurredAt: 1 });
      await events.createIndex({ receivedAt: 1 });
    },
    async keep(event) {
      await events
        .insertOne({
          _id: event.eventId,
          correlationId: event.correlationId,
          orderIds: [...event.orderIds],
          customerIds: [...event.customerIds],
          occurredAt: new Date(
            Number(event.occurTime?.seconds ?? 0n) * 1000 + (event.occurTime?.nanos ?? 0) / 1e6,
          ),
          receivedAt: new Date(Number(event.receiveTime?.seconds ?? 0n) * 1000),
          event: new Binary(toBinary(TraceEventSchema, event)),
        })
        .catch(ignoreDuplicateKey);
    },
    async trace(by, limit) {
      const filter: Filter<EventDocument> = by.correlationId
        ? { correlationId: by.correlationId }
        : by.orderId
          ? { orderIds: by.orderId }
          : { customerIds: by.customerId ?? "" };
      const docs = await events.find(filter).sort({ occurredAt: 1, _id: 1 }).limit(limit).toArray();
      return docs.map((d) => fromBinary(TraceEventSchema, d.event.buffer));
    },
    async forget(before) {
      return (await events.deleteMany({ receivedAt: { $lt: before } })).deletedCount;
    },
  };
}

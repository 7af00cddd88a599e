import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { TraceEventSchema } from "@retail/contracts/retail/operations/v1/operations_pb";
import { ignoreDuplicateKey, insertAll } from "@retail/platform/store";
import { Binary, type Db, type Filter } from "mongodb";
import type { Timeline } from "../../app/ports.js";

/** Events inserted at once at most, and how long the first of a batch waits for others. */
const batchSize = 64;
const batchWaitMs = 5;

interface EventDocument {
  _id: string;
  /** Set once its body was emptied for an erasure. */
  erased?: boolean;
  routingKey?: string;
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
export function createTimeline(db: Db): Timeline & {
  ensureIndexes(): Promise<void>;
  refreshErasures(): Promise<void>;
  reapplyErasures(since: Date): Promise<number>;
} {
  const events = db.collection<EventDocument>("timeline");
  /** Erased customers and their orders ("customer:<id>", "order:<id>"). */
  const erasures = db.collection<{ _id: string; at: Date }>("erasures");
  // Known here without a read per event: loaded, refreshed (another instance's erasures), and added
  // to by this instance's own; an event kept with its body in between is emptied by the sweep.
  const erased = new Set<string>();
  /** Empties the bodies of the events naming a customer or one of the orders, not emptied yet. */
  async function emptyNaming(customerId: string, orderIds: readonly string[]): Promise<number> {
    const found = customerId
      ? await events.find({ customerIds: customerId, erased: { $ne: true } }).toArray()
      : [];
    for (const orderId of orderIds)
      found.push(...(await events.find({ orderIds: orderId, erased: { $ne: true } }).toArray()));
    const all = new Map(found.map((d) => [d._id, d]));
    for (const doc of all.values())
      await events.updateOne({ _id: doc._id }, { $set: { event: emptied(doc), erased: true } });
    return all.size;
  }
  /** The event with its body emptied (what an erased customer's events keep: the envelope). */
  const emptied = (doc: EventDocument) =>
    new Binary(
      toBinary(TraceEventSchema, { ...fromBinary(TraceEventSchema, doc.event.buffer), dataJson: "" }),
    );
  // Events kept side by side (the consumer's prefetch window) go in one insert: a group commit, each
  // keep answered once its batch is in (a duplicate of an event kept before counts as kept).
  const waiting: Array<{ doc: EventDocument; settle: (error?: unknown) => void }> = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = async () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const batch = waiting.splice(0);
    if (batch.length === 0) return;
    try {
      await insertAll(
        events,
        batch.map((b) => b.doc),
      );
      for (const b of batch) b.settle();
    } catch (error) {
      for (const b of batch) b.settle(error);
    }
  };
  const inBatches = (doc: EventDocument) =>
    new Promise<void>((resolve, reject) => {
      waiting.push({ doc, settle: (error) => (error === undefined ? resolve() : reject(error)) });
      if (waiting.length >= batchSize) void flush();
      else timer ??= setTimeout(() => void flush(), batchWaitMs);
    });
  return {
    async ensureIndexes() {
      await events.createIndex({ correlationId: 1, occurredAt: 1 });
      await events.createIndex({ orderIds: 1, occurredAt: 1 });
      await events.createIndex({ customerIds: 1, occurredAt: 1 });
      await events.createIndex({ receivedAt: 1 });
      await events.createIndex({ routingKey: 1, occurredAt: -1 });
    },
    async keep(given) {
      // An event of a customer erased before it came, or of one of their orders, keeps no body.
      const isErased =
        given.customerIds.some((c) => erased.has(`customer:${c}`)) ||
        given.orderIds.some((o) => erased.has(`order:${o}`));
      const event = isErased ? create(TraceEventSchema, { ...given, dataJson: "" }) : given;

      await inBatches({
        _id: event.eventId,
        ...(isErased && { erased: true }),
        routingKey: event.routingKey,
        correlationId: event.correlationId,
        orderIds: [...event.orderIds],
        customerIds: [...event.customerIds],
        occurredAt: event.occurTime ? timestampDate(event.occurTime) : new Date(0),
        receivedAt: event.receiveTime ? timestampDate(event.receiveTime) : new Date(0),
        event: new Binary(toBinary(TraceEventSchema, event)),
      });
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
    async eraseCustomer(customerId) {
      const named = await events.find({ customerIds: customerId }).toArray();
      const orderIds = [...new Set(named.flatMap((d) => d.orderIds))];
      // Remembered before the emptying: an event of theirs kept meanwhile is found by one or the other.
      const keys = [`customer:${customerId}`, ...orderIds.map((o) => `order:${o}`)];
      for (const key of keys) {
        erased.add(key);
        await erasures
          .updateOne({ _id: key }, { $set: { at: new Date() } }, { upsert: true })
          .catch(ignoreDuplicateKey);
      }
      return emptyNaming(customerId, orderIds);
    },
    async refreshErasures() {
      for (const { _id } of await erasures.find({}, { projection: { _id: 1 } }).toArray()) erased.add(_id);
    },
    async reapplyErasures(since) {
      const recent = await erasures.find({ at: { $gte: since } }).toArray();
      const customers = recent.filter((e) => e._id.startsWith("customer:")).map((e) => e._id.slice(9));
      const orders = recent.filter((e) => e._id.startsWith("order:")).map((e) => e._id.slice(6));
      let emptiedCount = 0;
      for (const customerId of customers) emptiedCount += await emptyNaming(customerId, []);
      if (orders.length > 0) emptiedCount += await emptyNaming("", orders);
      return emptiedCount;
    },
    async latestOf(routingKeys, limit) {
      // One query per key (FerretDB pushes equality down, not $in), merged newest first.
      const found = await Promise.all(
        routingKeys.map((routingKey) =>
          events.find({ routingKey }).sort({ occurredAt: -1 }).limit(limit).toArray(),
        ),
      );
      return found
        .flat()
        .sort((a, b) => b.occurredAt.getTime() - a.occurredAt.getTime())
        .slice(0, limit)
        .map((d) => fromBinary(TraceEventSchema, d.event.buffer));
    },
    async forget(before) {
      return (await events.deleteMany({ receivedAt: { $lt: before } })).deletedCount;
    },
  };
}

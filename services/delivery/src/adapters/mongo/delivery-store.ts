import { findPage, isDuplicateKey } from "@retail/platform/store";
import { Binary, type Db, type Filter } from "mongodb";
import type { DeliveryRecord, DeliveryStore } from "../../app/ports.js";

type DeliveryDocument = Omit<DeliveryRecord, "deliveryId" | "data" | "deliveredAt" | "customerIds"> & {
  _id: string;
  data: Binary;
  customerIds: string[];
  deliveredAt?: Date;
};

function toRecord(doc: DeliveryDocument): DeliveryRecord {
  const { _id, data, deliveredAt, ...rest } = doc;
  return { ...rest, deliveryId: _id, data: new Uint8Array(data.buffer), deliveredAt };
}

function toDocument(record: DeliveryRecord): DeliveryDocument {
  const { deliveryId, data, deliveredAt, customerIds, ...rest } = record;
  return {
    ...rest,
    _id: deliveryId,
    data: new Binary(data),
    customerIds: [...customerIds],
    ...(deliveredAt ? { deliveredAt } : {}),
  };
}

/**
 * Deliveries (`deliveries`), one document per subscription and event (`<subscription>:<event id>`, so
 * recording an event again changes nothing): the event's encoding with its envelope, and the state of
 * its delivery. Delivered ones are kept for listing and replay from a point in time.
 */
export function createDeliveryStore(db: Db): DeliveryStore & { ensureIndexes(): Promise<void> } {
  const deliveries = db.collection<DeliveryDocument>("deliveries");
  return {
    async ensureIndexes() {
      await deliveries.createIndex({ subscriptionId: 1, state: 1, eventTime: 1 });
      await deliveries.createIndex({ subscriptionId: 1, eventTime: 1 });
      await deliveries.createIndex({ customerIds: 1 });
      await deliveries.createIndex({ subscriptionId: 1, aggregateId: 1, state: 1 });
    },
    async record(records) {
      await Promise.all(
        records.map((record) =>
          deliveries.insertOne(toDocument(record)).catch((error: unknown) => {
            if (!isDuplicateKey(error)) throw error;
          }),
        ),
      );
    },
    async pending(subscriptionId, limit) {
      const found = await deliveries
        .find({ subscriptionId, state: "pending" })
        .sort({ eventTime: 1, sequence: 1 })
        .limit(limit)
        .toArray();
      return found.map(toRecord);
    },
    async delivered(deliveryId, attempts, status, at) {
      await deliveries.updateOne(
        { _id: deliveryId },
        { $set: { state: "delivered", attempts, lastStatus: status, lastError: "", deliveredAt: at } },
      );
    },
    async pendingBefore(subscriptionId, aggregateId, sequence) {
      const found = await deliveries
        .find({ subscriptionId, aggregateId, state: "pending" }, { projection: { sequence: 1 } })
        .toArray();
      return found.some((d) => d.sequence < sequence);
    },
    async assignControlNumber(deliveryId, controlNumber) {
      await deliveries.updateOne(
        { _id: deliveryId, controlNumber: { $exists: false } },
        { $set: { controlNumber } },
      );
      const stored = await deliveries.findOne({ _id: deliveryId });
      return stored?.controlNumber ?? controlNumber;
    },
    async settle(deliveryId) {
      await deliveries.updateOne({ _id: deliveryId }, { $set: { awaitingFacts: false } });
    },
    async drop(deliveryId) {
      await deliveries.deleteOne({ _id: deliveryId, state: "pending" });
    },
    async failed(deliveryId, attempts, nextAttemptAt, status, error) {
      await deliveries.updateOne(
        { _id: deliveryId },
        {
          $set: {
            state: nextAttemptAt ? "pending" : "dead",
            attempts,
            lastStatus: status,
            lastError: error.slice(0, 500),
            ...(nextAttemptAt ? { nextAttemptAt } : {}),
          },
        },
      );
    },
    async list(subscriptionId, state, pageSize, pageToken) {
      const filter: Filter<DeliveryDocument> = state ? { subscriptionId, state } : { subscriptionId };
      const page = await findPage(deliveries, filter, "eventTime", pageSize, pageToken);
      return { deliveries: page.docs.map(toRecord), nextPageToken: page.nextPageToken };
    },
    async replay(subscriptionId, selection, now) {
      const again = {
        $set: { state: "pending" as const, attempts: 0, nextAttemptAt: now, lastError: "", lastStatus: 0 },
      };
      if (selection.kind === "ids") {
        // One by one: FerretDB answers an equality on _id from an index, an $in by scanning.
        let matched = 0;
        for (const _id of new Set(selection.deliveryIds))
          matched += (await deliveries.updateOne({ _id, subscriptionId }, again)).matchedCount;
        return matched;
      }
      const filter: Filter<DeliveryDocument> =
        selection.kind === "dead"
          ? { subscriptionId, state: "dead" }
          : { subscriptionId, eventTime: { $gte: selection.since } };
      return (await deliveries.updateMany(filter, again)).matchedCount;
    },
    async forgetDelivered(before) {
      return (await deliveries.deleteMany({ state: "delivered", deliveredAt: { $lt: before } })).deletedCount;
    },
    async eraseCustomer(customerId, redact) {
      let changed = 0;
      for await (const doc of deliveries.find({ customerIds: customerId })) {
        const data = redact(doc.type, new Uint8Array(doc.data.buffer));
        if (!data) continue;
        await deliveries.updateOne(
          { _id: doc._id },
          { $set: { data: new Binary(data), customerIds: doc.customerIds.filter((c) => c !== customerId) } },
        );
        changed++;
      }
      return changed;
    },
  };
}

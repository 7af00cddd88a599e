import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { LineStatus, OrderSchema } from "@retail/contracts/retail/order/v1/order_pb";
import { findPage, isDuplicateKey } from "@retail/platform/store";
import { Binary, type Db, type Filter } from "mongodb";
import type { OrderViews } from "../../app/ports.js";

interface OrderDocument {
  _id: string;
  /** The customer the order is listed under: its own, or the survivor it was merged into. */
  customerId: string;
  /** The customer the order was taken for. */
  originalCustomerId: string;
  channel: number;
  status: number;
  /** The order's stream version this document shows. */
  version: number;
  updatedAt: Date;
  /** Set while pickup lines are ready and not collected. */
  collectBy?: Date;
  /**
   * True while `collectBy` is set: the uncollected-pickup sweep's equality filter. FerretDB on
   * PostgreSQL pushes equality down to an index, but not a range, so a sweep by `collectBy < now`
   * would read every order ever taken every few seconds.
   */
  awaitingPickup?: true;
  /** The processors' references of the order's payments, to find it from a processor's notice. */
  paymentReferences?: string[];
  order: Binary;
}

/** The orders read model: one document per order (the whole order, encoded), for lists and sweeps. */
export function createOrderViews(db: Db): OrderViews & { ensureIndexes(): Promise<void> } {
  const orders = db.collection<OrderDocument>("orders");
  /** Per customer: the survivor it is merged into ("" when it is not) and the version of that change. */
  const aliases = db.collection<{ _id: string; survivorId: string; version: string }>("customer_aliases");
  return {
    async ensureIndexes() {
      await orders.createIndex({ customerId: 1 }, { name: "customer" });
      await orders.createIndex({ updatedAt: 1 }, { name: "updated" });
      await orders.createIndex({ originalCustomerId: 1 }, { name: "original_customer" });
      await orders.createIndex({ paymentReferences: 1 }, { name: "payment_references" });
      await orders.createIndex({ awaitingPickup: 1 }, { name: "awaiting_pickup" });
    },

    async save(order) {
      const waiting = order.lines.some((l) => l.status === LineStatus.READY_FOR_PICKUP);
      const alias = order.customerId ? await aliases.findOne({ _id: order.customerId }) : null;
      const doc: Omit<OrderDocument, "_id"> = {
        customerId: alias?.survivorId || order.customerId,
        originalCustomerId: order.customerId,
        channel: order.channel,
        status: order.status,
        version: Number(order.version),
        updatedAt: order.updateTime ? timestampDate(order.updateTime) : new Date(),
        ...(waiting && order.collectByTime
          ? { collectBy: timestampDate(order.collectByTime), awaitingPickup: true as const }
          : {}),
        paymentReferences: [
          ...new Set(order.paymentEvents.map((e) => e.providerReference).filter((r) => r !== "")),
        ],
        order: new Binary(toBinary(OrderSchema, order)),
      };
      // Older writes never overwrite newer ones (two saves of one order may finish out of order): one
      // upsert replaces a document at an older version or creates the first; when one at this version
      // or newer is there, its insert hits the _id (a duplicate key) and that document stays.
      await orders
        .replaceOne({ _id: order.orderId, version: { $lt: doc.version } }, doc, { upsert: true })
        .catch((error: unknown) => {
          if (!isDuplicateKey(error)) throw error;
        });
    },

    async ordersOf(customerId) {
      const ids = new Set<string>();
      for (const field of ["customerId", "originalCustomerId"] as const) {
        const found = await orders.find({ [field]: customerId }, { projection: { _id: 1 } }).toArray();
        for (const d of found) ids.add(d._id);
      }
      return [...ids];
    },

    async withPaymentReference(reference) {
      const found = await orders.findOne({ paymentReferences: reference }, { projection: { _id: 1 } });
      return found?._id;
    },

    async rewrite(order) {
      await orders.updateOne(
        { _id: order.orderId },
        { $set: { order: new Binary(toBinary(OrderSchema, order)) } },
      );
    },

    async list(filter, pageSize, pageToken) {
      const query: Filter<OrderDocument> = {};
      if (filter.customerId) query.customerId = filter.customerId;
      if (filter.channel) query.channel = filter.channel;
      if (filter.status) query.status = filter.status;
      if (filter.updatedSince) query.updatedAt = { $gte: filter.updatedSince };
      const page = await findPage(orders, query, "updatedAt", pageSize, pageToken);
      return {
        orders: page.docs.map((d) => fromBinary(OrderSchema, d.order.buffer)),
        nextPageToken: page.nextPageToken,
      };
    },

    async customerLink(customerId, survivorId, version) {
      const held = await aliases.findOne({ _id: customerId });
      if (held && BigInt(held.version) >= version) return 0; // a newer change of this customer came first
      const previous = held?.survivorId ?? "";
      await aliases
        .replaceOne({ _id: customerId }, { survivorId, version: version.toString() }, { upsert: true })
        .catch((error: unknown) => {
          if (!isDuplicateKey(error)) throw error;
        });
      if (survivorId) {
        // Customers merged into this one earlier now follow it into its survivor.
        await aliases.updateMany({ survivorId: customerId }, { $set: { survivorId } });
        return (await orders.updateMany({ customerId }, { $set: { customerId: survivorId } })).modifiedCount;
      }
      const back = await orders.updateMany(
        { originalCustomerId: customerId, ...(previous ? { customerId: previous } : {}) },
        { $set: { customerId } },
      );
      return back.modifiedCount;
    },

    async uncollected(now) {
      const waiting = await orders
        .find({ awaitingPickup: true }, { projection: { _id: 1, collectBy: 1 } })
        .toArray();
      return waiting.filter((d) => d.collectBy && d.collectBy < now).map((d) => d._id);
    },
  };
}

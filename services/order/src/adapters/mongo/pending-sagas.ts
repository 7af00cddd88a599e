import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { OrderCustomerSchema } from "@retail/contracts/retail/order/v1/order_service_pb";
import { redactPersonal } from "@retail/platform/personal";
import { isDuplicateKey } from "@retail/platform/store";
import { Binary, type Db } from "mongodb";
import type { PendingSagas } from "../../app/ports.js";

interface SagaDocument {
  _id: string;
  customer: Binary;
  receivedAt: Date;
}

/** Acceptance sagas not finished yet: a small collection, so the resume sweep reads little. */
export function createPendingSagas(db: Db): PendingSagas {
  const sagas = db.collection<SagaDocument>("pending_sagas");
  return {
    async start(submission) {
      const doc = {
        _id: submission.orderId,
        customer: new Binary(toBinary(OrderCustomerSchema, submission.customer)),
        receivedAt: submission.receivedAt,
      };
      await sagas.insertOne(doc).catch((error: unknown) => {
        if (!isDuplicateKey(error)) throw error; // the same order submitted twice at once
      });
    },
    async get(orderId) {
      const doc = await sagas.findOne({ _id: orderId });
      return doc
        ? {
            orderId,
            customer: fromBinary(OrderCustomerSchema, doc.customer.buffer),
            receivedAt: doc.receivedAt,
          }
        : undefined;
    },
    async finish(orderId) {
      await sagas.deleteOne({ _id: orderId });
    },
    async redactFor(customerId) {
      let redacted = 0;
      for (const doc of await sagas.find({}).toArray()) {
        const customer = fromBinary(OrderCustomerSchema, doc.customer.buffer);
        if (customer.customerId !== customerId) continue;
        const blank = toBinary(OrderCustomerSchema, redactPersonal(OrderCustomerSchema, customer));
        await sagas.updateOne({ _id: doc._id }, { $set: { customer: new Binary(blank) } });
        redacted++;
      }
      return redacted;
    },
    async olderThan(cutoff) {
      const due = await sagas.find({ receivedAt: { $lt: cutoff } }, { projection: { _id: 1 } }).toArray();
      return due.map((d) => d._id);
    },
  };
}

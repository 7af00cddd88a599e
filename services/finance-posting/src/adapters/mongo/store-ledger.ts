import { ignoreDuplicateKey } from "@retail/platform/store";
import type { Db } from "mongodb";
import type { StoreLedger, StoreLine } from "../../app/ports.js";

/** POS-style lines waiting for their store's daily summary (amounts kept as decimal strings). */
export function createStoreLedger(db: Db): StoreLedger & { ensureIndexes(): Promise<void> } {
  type Doc = Omit<StoreLine, "amount" | "lines" | "key"> & {
    _id: string;
    amount: string;
    lines: string;
    summaryKey: string;
    posted: boolean;
  };
  const lines = db.collection<Doc>("store_lines");
  const toLine = (d: Doc): StoreLine & { summaryKey: string } => ({
    key: d._id,
    storeId: d.storeId,
    postingDate: d.postingDate,
    currency: d.currency,
    orderId: d.orderId,
    fact: d.fact,
    amount: BigInt(d.amount),
    lines: (JSON.parse(d.lines) as Array<Record<string, string>>).map(
      (l) => ({ ...l, amount: BigInt(l.amount ?? "0") }) as never,
    ),
    summaryKey: d.summaryKey,
  });
  return {
    async ensureIndexes() {
      await lines.createIndex({ orderId: 1 }, { name: "order" });
      await lines.createIndex({ posted: 1 }, { name: "posted" });
    },
    async add(line) {
      const doc: Doc = {
        _id: line.key,
        storeId: line.storeId,
        postingDate: line.postingDate,
        currency: line.currency,
        orderId: line.orderId,
        fact: line.fact,
        amount: line.amount.toString(),
        lines: JSON.stringify(line.lines, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)),
        summaryKey: "",
        posted: false,
      };
      return lines.insertOne(doc).then(
        () => true,
        (error: unknown) => {
          ignoreDuplicateKey(error);
          return false;
        },
      );
    },
    forOrder: async (orderId) => (await lines.find({ orderId }).toArray()).map(toLine),
    forStoreDay: async (storeId, postingDate) =>
      (await lines.find({ storeId, postingDate }).toArray()).map(toLine),
    async pending(before) {
      const docs = await lines.find({ posted: false }).toArray();
      return docs.filter((d) => before === undefined || d.postingDate < before).map(toLine);
    },
    async assign(keys, summaryKey) {
      for (const key of keys) await lines.updateOne({ _id: key }, { $set: { summaryKey } });
    },
    async markPosted(keys) {
      for (const key of keys) await lines.updateOne({ _id: key }, { $set: { posted: true } });
    },
  };
}

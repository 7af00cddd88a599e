import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { ReconciliationItemSchema, SettlementSchema } from "@retail/contracts/retail/finance/v1/finance_pb";
import { ignoreDuplicateKey } from "@retail/platform/store";
import { Binary, type Db } from "mongodb";
import type { Settlements } from "../../app/ports.js";

/** Imported settlements with their reconciliation items, by settlement id and by period. */
export function createSettlements(db: Db): Settlements {
  const settlements = db.collection<{ _id: string; settlement: Binary; items: Binary[]; periodId: string }>(
    "settlements",
  );
  const toStored = (d: { settlement: Binary; items: Binary[]; periodId: string }) => ({
    settlement: fromBinary(SettlementSchema, d.settlement.buffer),
    items: d.items.map((i) => fromBinary(ReconciliationItemSchema, i.buffer)),
    periodId: d.periodId,
  });
  return {
    async save(s) {
      const doc = {
        _id: s.settlement.settlementId,
        settlement: new Binary(toBinary(SettlementSchema, s.settlement)),
        items: s.items.map((i) => new Binary(toBinary(ReconciliationItemSchema, i))),
        periodId: s.periodId,
      };
      const inserted = await settlements.insertOne(doc).then(
        () => true,
        (error: unknown) => {
          ignoreDuplicateKey(error);
          return false;
        },
      );
      if (inserted) return s;
      const first = await settlements.findOne({ _id: doc._id });
      return first ? toStored(first) : s;
    },
    async get(settlementId) {
      const d = await settlements.findOne({ _id: settlementId });
      return d ? toStored(d) : undefined;
    },
    inPeriod: async (periodId) => (await settlements.find({ periodId }).toArray()).map(toStored),
  };
}

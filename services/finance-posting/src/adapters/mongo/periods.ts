import { create } from "@bufbuild/protobuf";
import {
  type AccountingPeriod,
  AccountingPeriodSchema,
  PeriodStatus,
} from "@retail/contracts/retail/finance/v1/finance_pb";
import { ignoreDuplicateKey } from "@retail/platform/store";
import type { Db } from "mongodb";
import type { Periods } from "../../app/ports.js";

/** Accounting periods: months, created OPEN the first time something posts into them. */
export function createPeriods(db: Db): Periods {
  const periods = db.collection<{ _id: string; start: string; end: string; status: number }>("periods");
  const toPeriod = (d: { _id: string; start: string; end: string; status: number }): AccountingPeriod =>
    create(AccountingPeriodSchema, {
      periodId: d._id,
      startDate: d.start,
      endDate: d.end,
      status: d.status,
    });
  return {
    async ensure(periodId) {
      const found = await periods.findOne({ _id: periodId });
      if (found) return toPeriod(found);
      const [year = 0, month = 1] = periodId.split("-").map(Number);
      const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
      const doc = {
        _id: periodId,
        start: `${periodId}-01`,
        end: `${periodId}-${String(last).padStart(2, "0")}`,
        status: PeriodStatus.OPEN,
      };
      await periods.insertOne(doc).catch(ignoreDuplicateKey);
      return toPeriod((await periods.findOne({ _id: periodId })) ?? doc);
    },
    async get(periodId) {
      const d = await periods.findOne({ _id: periodId });
      return d ? toPeriod(d) : undefined;
    },
    list: async () => (await periods.find({}).sort({ _id: 1 }).toArray()).map(toPeriod),
    async setStatus(periodId, status) {
      await periods.updateOne({ _id: periodId }, { $set: { status } });
      const d = await periods.findOne({ _id: periodId });
      if (!d) throw new Error(`period ${periodId} vanished`);
      return toPeriod(d);
    },
  };
}

import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import {
  type ReconciliationException,
  ReconciliationExceptionSchema,
} from "@retail/contracts/retail/finance/v1/finance_pb";
import { findPage, ignoreDuplicateKey } from "@retail/platform/store";
import { Binary, type Db } from "mongodb";
import type { Exceptions } from "../../app/ports.js";

/** The reconciliation exception work list: raised once per id, listed open or all, resolved. */
export function createExceptions(db: Db): Exceptions & { ensureIndexes(): Promise<void> } {
  type Doc = { _id: string; periodId: string; resolved: boolean; createdAt: Date; exception: Binary };
  const exceptions = db.collection<Doc>("exceptions");
  const toDoc = (e: ReconciliationException): Doc => ({
    _id: e.exceptionId,
    periodId: e.periodId,
    resolved: e.resolved,
    createdAt: e.createTime ? timestampDate(e.createTime) : new Date(),
    exception: new Binary(toBinary(ReconciliationExceptionSchema, e)),
  });
  const toException = (d: Doc) => fromBinary(ReconciliationExceptionSchema, d.exception.buffer);
  return {
    async ensureIndexes() {
      await exceptions.createIndex({ periodId: 1 }, { name: "period" });
    },
    async raise(e) {
      await exceptions.insertOne(toDoc(e)).catch(ignoreDuplicateKey);
      const d = await exceptions.findOne({ _id: e.exceptionId });
      return d ? toException(d) : e;
    },
    async get(exceptionId) {
      const d = await exceptions.findOne({ _id: exceptionId });
      return d ? toException(d) : undefined;
    },
    async list(includeResolved, pageSize, pageToken) {
      const page = await findPage(
        exceptions,
        includeResolved ? {} : { resolved: false },
        "createdAt",
        pageSize,
        pageToken,
      );
      return { exceptions: page.docs.map(toException), nextPageToken: page.nextPageToken };
    },
    openInPeriod: async (periodId) =>
      (await exceptions.find({ periodId, resolved: false }).toArray())
        .map(toException)
        .filter((e) => !e.carriedToPeriodId),
    async openHeldBy(periodId) {
      const open = (await exceptions.find({ resolved: false }).toArray()).map(toException);
      return open.filter(
        (e) => (e.periodId === periodId && !e.carriedToPeriodId) || e.carriedToPeriodId === periodId,
      );
    },
    async save(e) {
      await exceptions.replaceOne({ _id: e.exceptionId }, toDoc(e));
    },
  };
}

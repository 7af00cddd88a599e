import { create, type DescMessage, fromBinary, type Message, toBinary } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import {
  ErpBatchExportedSchema,
  JournalEntryReversedSchema,
  PeriodClosedSchema,
  ReconciliationExceptionRaisedSchema,
  SettlementReconciledSchema,
} from "@retail/contracts/retail/finance/v1/finance_events_pb";
import {
  type AccountingPeriod,
  AccountingPeriodSchema,
  PeriodStatus,
  type ReconciliationException,
  ReconciliationExceptionSchema,
  ReconciliationItemSchema,
  SettlementSchema,
} from "@retail/contracts/retail/finance/v1/finance_pb";
import {
  ConcurrencyConflict,
  event,
  findPage,
  isDuplicateKey,
  type StreamStore,
} from "@retail/platform/store";
import { Binary, type Db } from "mongodb";
import type {
  Exceptions,
  ExportBatches,
  FinanceEvents,
  OrderTermsStore,
  Periods,
  Settlements,
  StoreLedger,
  StoreLine,
} from "../../app/ports.js";

const ignoreDuplicate = (error: unknown) => {
  if (!isDuplicateKey(error)) throw error;
};

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
          ignoreDuplicate(error);
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

export function createOrderTerms(db: Db): OrderTermsStore {
  const terms = db.collection<{
    _id: string;
    channel: string;
    storeId: string;
    currency: string;
    shipping: string;
  }>("order_terms");
  return {
    async save(t) {
      await terms
        .insertOne({
          _id: t.orderId,
          channel: t.channel,
          storeId: t.storeId,
          currency: t.currency,
          shipping: t.shipping.toString(),
        })
        .catch(ignoreDuplicate);
    },
    async get(orderId) {
      const d = await terms.findOne({ _id: orderId });
      return d
        ? {
            orderId,
            channel: d.channel,
            storeId: d.storeId,
            currency: d.currency,
            shipping: BigInt(d.shipping),
          }
        : undefined;
    },
  };
}

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
      await periods.insertOne(doc).catch(ignoreDuplicate);
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
          ignoreDuplicate(error);
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
      await exceptions.insertOne(toDoc(e)).catch(ignoreDuplicate);
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

export function createExportBatches(db: Db): ExportBatches {
  const batches = db.collection<{
    _id: string;
    batchId: string;
    adapter: string;
    startedAt: Date;
    finished: boolean;
    entryIds?: string[];
    location?: string;
    exportedAt?: Date;
  }>("export_batches");
  const claims = db.collection<{ _id: string; batchId: string }>("export_claims");
  const entries = db.collection<{ _id: string; batchId?: string }>("entries");
  return {
    async byRequest(requestKey) {
      const d = await batches.findOne({ _id: requestKey });
      return d?.finished
        ? {
            batchId: d.batchId,
            adapter: d.adapter,
            entryIds: d.entryIds ?? [],
            location: d.location ?? "",
            exportedAt: d.exportedAt ?? d.startedAt,
          }
        : undefined;
    },
    async begin(batch) {
      await batches
        .insertOne({
          _id: batch.requestKey,
          batchId: batch.batchId,
          adapter: batch.adapter,
          startedAt: batch.startedAt,
          finished: false,
        })
        .catch(ignoreDuplicate);
    },
    async unfinished(before) {
      const open = await batches.find({ finished: false }).toArray();
      return open
        .filter((d) => d.startedAt < before)
        .map((d) => ({ requestKey: d._id, batchId: d.batchId, adapter: d.adapter, startedAt: d.startedAt }));
    },
    async claim(batchId, entryIds) {
      const got: string[] = [];
      for (const id of entryIds) {
        const mine = await claims.insertOne({ _id: id, batchId }).then(
          () => true,
          async (error: unknown) => {
            ignoreDuplicate(error);
            return (await claims.findOne({ _id: id }))?.batchId === batchId;
          },
        );
        // The entry leaves the unexported list whoever claimed it.
        const holder = mine ? batchId : ((await claims.findOne({ _id: id }))?.batchId ?? batchId);
        await entries.updateOne({ _id: id }, { $set: { batchId: holder } });
        if (mine) got.push(id);
      }
      return got;
    },
    async claimedBy(batchId) {
      const found = await claims.find({ batchId }).project<{ _id: string }>({ _id: 1 }).toArray();
      return found.map((d) => d._id).sort();
    },
    async save(requestKey, batch) {
      await batches.updateOne(
        { _id: requestKey },
        {
          $set: {
            finished: true,
            entryIds: [...batch.entryIds],
            location: batch.location,
            exportedAt: batch.exportedAt,
          },
        },
      );
    },
    countSince: (adapter, since) => batches.countDocuments({ adapter, exportedAt: { $gte: since } }),
  };
}

/** Finance events through the outbox: each on a stream of its own, appended once. */
export function createFinanceEvents(store: StreamStore): FinanceEvents {
  return {
    async publish(streamId, message: Message) {
      const schema = registry.get(message.$typeName);
      if (!schema) throw new Error(`no schema for ${message.$typeName}`);
      await store.append(streamId, 0, [event(schema, message as never)]).catch((error: unknown) => {
        if (!(error instanceof ConcurrencyConflict)) throw error; // published before
      });
    },
  };
}

const registry = new Map<string, DescMessage>(
  [
    ErpBatchExportedSchema,
    JournalEntryReversedSchema,
    PeriodClosedSchema,
    ReconciliationExceptionRaisedSchema,
    SettlementReconciledSchema,
  ].map((s) => [s.typeName, s] as const),
);

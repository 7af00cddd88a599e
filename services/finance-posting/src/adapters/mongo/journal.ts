import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { JournalEntryPostedSchema } from "@retail/contracts/retail/finance/v1/finance_events_pb";
import { JournalEntrySchema } from "@retail/contracts/retail/finance/v1/finance_pb";
import {
  ConcurrencyConflict,
  event,
  findIdPage,
  isDuplicateKey,
  type StreamStore,
} from "@retail/platform/store";
import { Binary, type Db, type Filter } from "mongodb";
import type { Journal, StoredEntry } from "../../app/ports.js";
import { sourceRoutingKey } from "../../app/record-posting.js";

interface EntryDocument {
  _id: string;
  periodId: string;
  postingDate: string;
  orderId: string;
  fact: string;
  provider: string;
  providerReference: string;
  amount: string;
  reversedBy: string;
  /** Accounts the entry's lines touch, and its source event: for lists by account or source. */
  accounts: string[];
  eventId: string;
  settledBy?: string;
  batchId?: string;
  entry: Binary;
}

function toStored(doc: EntryDocument): StoredEntry {
  const entry = fromBinary(JournalEntrySchema, doc.entry.buffer);
  // Entries posted before sources carried their routing key get it as they are read.
  if (entry.source && !entry.source.routingKey)
    entry.source.routingKey = sourceRoutingKey(entry.source.eventType);
  return {
    entry,
    fact: doc.fact,
    orderId: doc.orderId,
    provider: doc.provider,
    providerReference: doc.providerReference,
    amount: BigInt(doc.amount),
    reversedBy: doc.reversedBy,
    settledBy: doc.settledBy ?? "",
  };
}

/**
 * The journal. Each entry is first appended as JournalEntryPosted to a stream of its own at version 1
 * (the record, and the outbox that publishes it): of two posts of one entry exactly one is appended.
 * Then it is written to `entries`, the queryable copy (by period, order, processor reference), which
 * a repeated post completes if a crash came in between.
 */
/**
 * A posted capture, refund, chargeback or its reversal, or a payout the bank got, with a processor
 * reference that no settlement has covered (itemised).
 */
function awaitingSettlement(d: {
  settledBy?: string;
  providerReference?: string;
  reversedBy?: string;
  fact: string;
}) {
  return (
    !d.settledBy &&
    Boolean(d.providerReference) &&
    !d.reversedBy &&
    /^(capture|refund_|chargeback$|chargeback_reversal$|settlement_payout$)/.test(d.fact)
  );
}

export function createJournal(db: Db, store: StreamStore): Journal & { ensureIndexes(): Promise<void> } {
  const entries = db.collection<EntryDocument>("entries");
  const find = async (filter: Filter<EntryDocument>) => (await entries.find(filter).toArray()).map(toStored);
  return {
    async ensureIndexes() {
      await entries.createIndex({ periodId: 1 }, { name: "period" });
      await entries.createIndex({ orderId: 1 }, { name: "order" });
      await entries.createIndex({ providerReference: 1 }, { name: "reference" });
      await entries.createIndex({ provider: 1 }, { name: "provider" });
      await entries.createIndex({ eventId: 1 }, { name: "event" });
    },

    async post(entry, meta) {
      let appended = true;
      try {
        await store.append(`journal:${entry.entryId}`, 0, [
          event(JournalEntryPostedSchema, create(JournalEntryPostedSchema, { entry })),
        ]);
      } catch (error) {
        if (!(error instanceof ConcurrencyConflict)) throw error;
        appended = false;
      }
      const doc: EntryDocument = {
        _id: entry.entryId,
        periodId: entry.periodId,
        postingDate: entry.postingDate,
        orderId: meta.orderId,
        fact: meta.fact,
        provider: meta.provider,
        providerReference: meta.providerReference,
        amount: meta.amount.toString(),
        reversedBy: "",
        accounts: [...new Set(entry.lines.map((l) => l.accountCode))],
        eventId: entry.source?.eventId ?? "",
        entry: new Binary(toBinary(JournalEntrySchema, entry)),
      };
      if (!appended) {
        // Posted before: make sure its copy exists, from the stream (the first post's own entry).
        if (await entries.findOne({ _id: entry.entryId }, { projection: { _id: 1 } })) return false;
        const [stored] = await store.read(`journal:${entry.entryId}`);
        const first = stored ? fromBinary(JournalEntryPostedSchema, stored.data).entry : undefined;
        if (first) doc.entry = new Binary(toBinary(JournalEntrySchema, first));
      }
      await entries.insertOne(doc).catch((error: unknown) => {
        if (!isDuplicateKey(error)) throw error;
      });
      return appended;
    },

    async get(entryId) {
      const doc = await entries.findOne({ _id: entryId });
      return doc ? toStored(doc) : undefined;
    },

    async list(filter, pageSize, pageToken) {
      const query: Filter<EntryDocument> = {};
      if (filter.periodId) query.periodId = filter.periodId;
      if (filter.orderId) query.orderId = filter.orderId;
      if (filter.accountCode) query.accounts = filter.accountCode;
      if (filter.eventId) query.eventId = filter.eventId;
      const page = await findIdPage(entries, query, pageSize, pageToken);
      return { entries: page.docs.map(toStored), nextPageToken: page.nextPageToken };
    },

    forOrder: (orderId) => find({ orderId }),
    forPeriod: (periodId) => find({ periodId }),
    byReference: (providerReference) => find({ providerReference }),

    async unsettled(provider, upTo) {
      const docs = await entries.find({ provider, postingDate: { $lte: upTo } }).toArray();
      return docs.filter(awaitingSettlement).map(toStored);
    },

    async unsettledUpTo(upTo) {
      const docs = await entries
        .find({ postingDate: { $lte: upTo }, settledBy: { $exists: false } })
        .toArray();
      return docs.filter(awaitingSettlement).map(toStored);
    },

    async markSettled(entryIds, settlementId) {
      for (const id of entryIds) await entries.updateOne({ _id: id }, { $set: { settledBy: settlementId } });
    },

    async markReversed(entryId, reversingEntryId) {
      await entries.updateOne({ _id: entryId }, { $set: { reversedBy: reversingEntryId } });
    },

    async unexported(limit) {
      const docs = await entries
        .find({ batchId: { $exists: false } })
        .sort({ postingDate: 1, _id: 1 })
        .limit(limit)
        .toArray();
      return docs.map(toStored);
    },
  };
}

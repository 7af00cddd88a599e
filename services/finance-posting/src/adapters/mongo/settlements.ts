import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  ReconciliationItemSchema,
  SettlementLineSchema,
  SettlementSchema,
} from "@retail/contracts/retail/finance/v1/finance_pb";
import { ignoreDuplicateKey } from "@retail/platform/store";
import { Binary, type Db } from "mongodb";
import type { SettlementPart, Settlements, StoredSettlement } from "../../app/ports.js";

interface SettlementDocument {
  _id: string;
  settlement: Binary;
  items: Binary[];
  periodId: string;
  /** Set when the settlement came in parts: how many (their lines and items are in settlement_parts). */
  parts?: number;
}

interface PartDocument {
  _id: string;
  settlementId: string;
  part: number;
  lines: Binary[];
  items: Binary[];
  lineSum: string;
  matched: number;
  /** Its items' count, read without the items. */
  itemCount: number;
}

const items = (binaries: readonly Binary[]) =>
  binaries.map((i) => fromBinary(ReconciliationItemSchema, i.buffer));

/**
 * Imported settlements with their reconciliation items, by settlement id and by period. A settlement
 * sent in parts keeps each part in a document of its own (a large settlement would outgrow one), and
 * its completion in `settlements`; read back whole, parts in order.
 */
export function createSettlements(db: Db): Settlements {
  const settlements = db.collection<SettlementDocument>("settlements");
  const parts = db.collection<PartDocument>("settlement_parts");
  const toPart = (d: PartDocument): SettlementPart => ({
    settlementId: d.settlementId,
    part: d.part,
    lines: d.lines.map((l) => fromBinary(SettlementLineSchema, l.buffer)),
    items: items(d.items),
    lineSum: BigInt(d.lineSum),
    matched: d.matched,
  });
  const toStored = async (d: SettlementDocument): Promise<StoredSettlement> => {
    const settlement = fromBinary(SettlementSchema, d.settlement.buffer);
    if (!d.parts) return { settlement, items: items(d.items), periodId: d.periodId };
    const received = (await parts.find({ settlementId: d._id }).toArray())
      .map(toPart)
      .sort((a, b) => a.part - b.part);
    return {
      settlement: create(SettlementSchema, { ...settlement, lines: received.flatMap((p) => p.lines) }),
      items: [...received.flatMap((p) => p.items), ...items(d.items)],
      periodId: d.periodId,
      parts: d.parts,
    };
  };
  /** Inserts once; false when the document was there (a repeat or a racing import). */
  const insertOnce = <T extends { _id: string }>(
    collection: { insertOne(doc: T): Promise<unknown> },
    doc: T,
  ) =>
    collection.insertOne(doc).then(
      () => true,
      (error: unknown) => {
        ignoreDuplicateKey(error);
        return false;
      },
    );
  return {
    async save(s) {
      const doc: SettlementDocument = {
        _id: s.settlement.settlementId,
        settlement: new Binary(toBinary(SettlementSchema, s.settlement)),
        items: s.items.map((i) => new Binary(toBinary(ReconciliationItemSchema, i))),
        periodId: s.periodId,
        ...(s.parts ? { parts: s.parts } : {}),
      };
      if (await insertOnce(settlements, doc)) return s;
      const first = await settlements.findOne({ _id: doc._id });
      return first ? toStored(first) : s;
    },
    async get(settlementId) {
      const d = await settlements.findOne({ _id: settlementId });
      return d ? toStored(d) : undefined;
    },
    inPeriod: async (periodId) => Promise.all((await settlements.find({ periodId }).toArray()).map(toStored)),
    async savePart(p) {
      const doc: PartDocument = {
        _id: `${p.settlementId}:${p.part}`,
        settlementId: p.settlementId,
        part: p.part,
        lines: p.lines.map((l) => new Binary(toBinary(SettlementLineSchema, l))),
        items: p.items.map((i) => new Binary(toBinary(ReconciliationItemSchema, i))),
        lineSum: String(p.lineSum),
        matched: p.matched,
        itemCount: p.items.length,
      };
      if (await insertOnce(parts, doc)) return p;
      const first = await parts.findOne({ _id: doc._id });
      return first ? toPart(first) : p;
    },
    async part(settlementId, part) {
      const d = await parts.findOne({ _id: `${settlementId}:${part}` });
      return d ? toPart(d) : undefined;
    },
    async partSummaries(settlementId) {
      const docs = await parts
        .find({ settlementId }, { projection: { part: 1, lineSum: 1, matched: 1, itemCount: 1 } })
        .toArray();
      return docs.map((d) => ({
        part: d.part,
        lineSum: BigInt(d.lineSum),
        matched: d.matched,
        items: d.itemCount,
      }));
    },
  };
}

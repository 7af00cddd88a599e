import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  ExceptionKind,
  type OperationalException,
  OperationalExceptionSchema,
} from "@retail/contracts/retail/operations/v1/operations_pb";
import { createKeyedLock, findPage, isDuplicateKey } from "@retail/platform/store";
import type { Db, Filter, UpdateFilter } from "mongodb";
import type { ExceptionStore } from "../../app/ports.js";
import type { OpenItem } from "../../domain/exceptions.js";

interface ExceptionDocument {
  _id: string;
  /** Set once the item opened (an ending may be recorded first). */
  opened?: boolean;
  kind?: ExceptionKind;
  subject?: string;
  since?: Date;
  reason?: string;
  eventId?: string;
  correlationId?: string;
  sourceSystem?: string;
  orderId?: string;
  resolvedAt?: Date;
  /** The time of the last change applied (an older one coming late changes nothing). */
  lastAt?: Date;
}

function toException(d: ExceptionDocument): OperationalException {
  return create(OperationalExceptionSchema, {
    exceptionId: d._id,
    kind: d.kind ?? 0,
    subject: d.subject ?? "",
    ...(d.since && { since: timestampFromDate(d.since) }),
    reason: d.reason ?? "",
    eventId: d.eventId ?? "",
    correlationId: d.correlationId ?? "",
    sourceSystem: d.sourceSystem ?? "",
    orderId: d.orderId ?? "",
    ...(d.resolvedAt && { resolveTime: timestampFromDate(d.resolvedAt) }),
  });
}

const fieldsOf = ({ exceptionId: _id, ...item }: OpenItem) => ({ ...item, opened: true });

/**
 * The exception lists (`operational_exceptions`), one document per item. Opening and ending commute
 * (an ending recorded first stays when the opening comes); a drift's changes apply in their reports'
 * order, an older one coming late changing nothing. One item's changes are applied one at a time here.
 */
export function createExceptionStore(db: Db): ExceptionStore & { ensureIndexes(): Promise<void> } {
  const items = db.collection<ExceptionDocument>("operational_exceptions");
  const oneAtATime = createKeyedLock();
  // On FerretDB an upsert is a query then an insert: two instances inserting one item at once collide,
  // and the one that lost updates what the other inserted.
  const upsert = (id: string, update: UpdateFilter<ExceptionDocument>) =>
    items.updateOne({ _id: id }, update, { upsert: true }).catch((error: unknown) => {
      if (!isDuplicateKey(error)) throw error;
      return items.updateOne({ _id: id }, update);
    });
  return {
    async ensureIndexes() {
      await items.createIndex({ opened: 1, kind: 1, since: 1 });
    },
    apply(change) {
      const id = change.change === "resolve" ? change.exceptionId : change.item.exceptionId;
      return oneAtATime(id, async () => {
        if (change.change === "open") {
          await upsert(id, { $set: fieldsOf(change.item) });
          return;
        }
        const current = await items.findOne({ _id: id });
        const at = change.change === "resolve" ? change.at : change.item.since;
        if (current?.lastAt && current.lastAt > at) return;
        if (change.change === "resolve") {
          await upsert(id, { $set: { resolvedAt: at, lastAt: at } });
          return;
        }
        // A drift still open keeps when it began; one that had ended begins again.
        const stillOpen = current?.opened && !current.resolvedAt;
        const item = stillOpen && current?.since ? { ...change.item, since: current.since } : change.item;
        await upsert(id, { $set: { ...fieldsOf(item), lastAt: at }, $unset: { resolvedAt: "" } });
      });
    },
    async openByKind() {
      const kinds = Object.values(ExceptionKind).filter(
        (k): k is ExceptionKind => typeof k === "number" && k !== ExceptionKind.UNSPECIFIED,
      );
      return Promise.all(
        kinds.map(async (kind) => {
          const filter = { opened: true, kind, resolvedAt: { $exists: false } };
          const open = await items.countDocuments(filter);
          const oldest = open > 0 ? await items.find(filter).sort({ since: 1 }).limit(1).next() : null;
          return { kind, open, oldest: oldest?.since };
        }),
      );
    },
    async list(query) {
      const filter: Filter<ExceptionDocument> = {
        opened: true,
        ...(query.kind ? { kind: query.kind } : {}),
        ...(query.sourceSystem ? { sourceSystem: query.sourceSystem } : {}),
        ...(query.includeResolved ? {} : { resolvedAt: { $exists: false } }),
        ...(query.sinceAtMost ? { since: { $lte: query.sinceAtMost } } : {}),
      };
      const page = await findPage(items, filter, "since", query.pageSize, query.pageToken);
      return { exceptions: page.docs.map(toException), nextPageToken: page.nextPageToken };
    },
  };
}

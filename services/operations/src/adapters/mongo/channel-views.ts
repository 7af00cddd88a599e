import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ChannelOrderViewSchema } from "@retail/contracts/retail/operations/v1/operations_pb";
import type { OrderStatus } from "@retail/contracts/retail/order/v1/order_pb";
import { isDuplicateKey } from "@retail/platform/store";
import type { Db } from "mongodb";
import type { ChannelViewStore, StoredView } from "../../app/ports.js";

interface ViewDocument {
  /** "<channel>/<order>". */
  _id: string;
  channelId: string;
  orderId: string;
  sourceSystem: string;
  channelOrderId: string;
  status: OrderStatus;
  observedAt: Date;
  meshStatus?: OrderStatus;
  comparedAt?: Date;
  divergedSince?: Date;
  /** Reported and not compared since. */
  due: boolean;
  /** Differs from the mesh (whether raised yet or not). */
  diverged: boolean;
  raised: boolean;
  /** Events appended to the view's drift stream. */
  version: number;
  /** Bumped by every write: a comparison saves only over what it read. */
  revision: number;
}

const idOf = (channelId: string, orderId: string) => `${channelId}/${orderId}`;

function toStored(d: ViewDocument): StoredView {
  return {
    view: create(ChannelOrderViewSchema, {
      channelId: d.channelId,
      orderId: d.orderId,
      sourceSystem: d.sourceSystem,
      channelOrderId: d.channelOrderId,
      status: d.status,
      observeTime: timestampFromDate(d.observedAt),
      meshStatus: d.meshStatus ?? 0,
      ...(d.divergedSince && { divergeTime: timestampFromDate(d.divergedSince) }),
      ...(d.comparedAt && { compareTime: timestampFromDate(d.comparedAt) }),
    }),
    divergedSince: d.divergedSince,
    raised: d.raised,
    version: d.version,
    revision: d.revision,
  };
}

/**
 * The channels' views of orders (`channel_order_views`), one document per channel and order. A view
 * replaces the kept one only when it is not older; comparisons save over the revision they read.
 */
export function createChannelViewStore(db: Db): ChannelViewStore & { ensureIndexes(): Promise<void> } {
  const views = db.collection<ViewDocument>("channel_order_views");
  return {
    async ensureIndexes() {
      await views.createIndex({ orderId: 1 });
      await views.createIndex({ due: 1 });
      await views.createIndex({ diverged: 1, divergedSince: 1 });
    },
    async record(view) {
      const _id = idOf(view.channelId, view.orderId);
      const observedAt = view.observeTime ? timestampDate(view.observeTime) : new Date();
      const fields = {
        channelId: view.channelId,
        orderId: view.orderId,
        sourceSystem: view.sourceSystem,
        channelOrderId: view.channelOrderId,
        status: view.status,
        observedAt,
        due: true,
      };
      try {
        // Only over an older view; an older one finds no match, tries to insert and collides.
        await views.updateOne(
          { _id, observedAt: { $lte: observedAt } },
          {
            $set: fields,
            $inc: { revision: 1 },
            $setOnInsert: { diverged: false, raised: false, version: 0 },
          },
          { upsert: true },
        );
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
      }
      const kept = await views.findOne({ _id });
      if (!kept) throw new Error(`channel view ${_id} vanished after it was recorded`);
      return toStored(kept);
    },
    async candidates({ orderIds, limit }) {
      const found = new Map<string, ViewDocument>();
      const queries = [
        views.find({ due: true }).limit(limit).toArray(),
        views.find({ diverged: true }).limit(limit).toArray(),
        ...(orderIds.length > 0
          ? [
              views
                .find({ orderId: { $in: orderIds } })
                .limit(limit)
                .toArray(),
            ]
          : []),
      ];
      for (const docs of await Promise.all(queries)) for (const d of docs) found.set(d._id, d);
      return [...found.values()].map(toStored);
    },
    async saveComparison(stored, kept, version, now) {
      const { view } = stored;
      const set = {
        meshStatus: kept.view.meshStatus,
        comparedAt: now,
        due: false,
        diverged: kept.divergedSince !== undefined,
        raised: kept.raised,
        version,
        ...(kept.divergedSince && { divergedSince: kept.divergedSince }),
      };
      const result = await views.updateOne(
        { _id: idOf(view.channelId, view.orderId), revision: stored.revision },
        {
          $set: set,
          ...(!kept.divergedSince && { $unset: { divergedSince: "" as const } }),
          $inc: { revision: 1 },
        },
      );
      return result.matchedCount === 1;
    },
    async ofOrder(orderId) {
      return (await views.find({ orderId }).toArray()).map((d) => toStored(d).view);
    },
    async diverged(limit) {
      return (await views.find({ diverged: true }).sort({ divergedSince: 1 }).limit(limit).toArray()).map(
        (d) => toStored(d).view,
      );
    },
  };
}

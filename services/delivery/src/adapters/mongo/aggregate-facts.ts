import { isDuplicateKey } from "@retail/platform/store";
import type { Db } from "mongodb";
import type { AggregateFacts } from "../../app/ports.js";

interface FactsDocument {
  _id: string;
  channels: string[];
  channelIds: string[];
  locationIds: string[];
}

/**
 * What aggregates' events said of them (`aggregate_facts`): the channels and channel ids named last,
 * every location named so far. Written only while a subscription filters on them.
 */
export function createAggregateFacts(db: Db): AggregateFacts {
  const facts = db.collection<FactsDocument>("aggregate_facts");
  return {
    async remember(aggregateId, known) {
      const update = {
        $set: {
          ...(known.channels.length > 0 ? { channels: [...known.channels] } : {}),
          ...(known.channelIds.length > 0 ? { channelIds: [...known.channelIds] } : {}),
        },
        $addToSet: { locationIds: { $each: [...known.locationIds] } },
      };
      try {
        await facts.updateOne({ _id: aggregateId }, update, { upsert: true });
      } catch (error) {
        // Two events of one aggregate upserting at once: one inserted, so the other's update now finds it
        // (FerretDB's upsert is a query then an insert, not atomic).
        if (!isDuplicateKey(error)) throw error;
        await facts.updateOne({ _id: aggregateId }, update);
      }
    },
    async recall(aggregateId) {
      const found = await facts.findOne({ _id: aggregateId });
      return found
        ? {
            channels: found.channels ?? [],
            channelIds: found.channelIds ?? [],
            locationIds: found.locationIds ?? [],
          }
        : undefined;
    },
  };
}

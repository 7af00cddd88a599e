import { create, fromBinary } from "@bufbuild/protobuf";
import { ChannelStockReportedSchema } from "@retail/contracts/retail/inventory/v1/inventory_events_pb";
import { event, type StoredEvent, type StreamStore } from "@retail/platform/store";
import type { ChannelStockKey, ChannelStockStore } from "../../app/ports.js";

const streamOf = (key: ChannelStockKey) => `channel-stock:${key.channelId}:${key.locationId}:${key.sku}`;
const viewOf = (stored: StoredEvent | undefined) =>
  stored ? fromBinary(ChannelStockReportedSchema, stored.data).view : undefined;

/**
 * A channel's reports of its stock view as a stream per channel, location and SKU: each report an
 * appended (and so published) ChannelStockReported, the newest the view.
 */
export function createChannelStockStore(store: StreamStore): ChannelStockStore {
  return {
    async read(key, request) {
      const { events, applied } = await store.readFor(streamOf(key), request);
      return {
        current: viewOf(events.at(-1)),
        version: events.at(-1)?.version ?? 0,
        applied: viewOf(applied?.events[0]),
      };
    },
    async append(key, version, view, request) {
      await store.append(
        streamOf(key),
        version,
        [event(ChannelStockReportedSchema, create(ChannelStockReportedSchema, { view }))],
        { request },
      );
    },
  };
}

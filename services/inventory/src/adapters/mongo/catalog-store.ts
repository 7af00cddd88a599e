import { create, fromBinary } from "@bufbuild/protobuf";
import {
  ChannelRuleSetSchema,
  LocationUpsertedSchema,
} from "@retail/contracts/retail/inventory/v1/inventory_events_pb";
import type { ChannelRule, Location } from "@retail/contracts/retail/inventory/v1/inventory_pb";
import {
  ConcurrencyConflict,
  event,
  type NewEvent,
  retryOnConflict,
  type StreamStore,
} from "@retail/platform/store";
import type { CatalogStore } from "../../app/ports.js";

/**
 * Locations and channel rules as streams (`location:<id>`, `channel-rule:<id>`): every change is kept
 * and published (LocationUpserted, ChannelRuleSet), so every instance's catalog follows.
 */
export function createCatalogStore(store: StreamStore): CatalogStore {
  async function save(streamId: string, newEvent: NewEvent): Promise<void> {
    await retryOnConflict(
      async () => {
        const existing = await store.read(streamId);
        await store.append(streamId, existing.at(-1)?.version ?? 0, [newEvent]);
      },
      (error) => error instanceof ConcurrencyConflict,
    );
  }

  return {
    saveLocation: (location: Location) =>
      save(
        `location:${location.locationId}`,
        event(LocationUpsertedSchema, create(LocationUpsertedSchema, { location })),
      ),
    saveChannelRule: (rule: ChannelRule) =>
      save(
        `channel-rule:${rule.channelId}`,
        event(ChannelRuleSetSchema, create(ChannelRuleSetSchema, { rule })),
      ),
    async loadAll() {
      const latest = new Map<string, { type: string; data: Uint8Array }>();
      for (const prefix of ["location:", "channel-rule:"]) {
        for await (const stored of store.readStreams(prefix)) latest.set(stored.streamId, stored);
      }
      const locations: Location[] = [];
      const rules: ChannelRule[] = [];
      for (const stored of latest.values()) {
        if (stored.type === LocationUpsertedSchema.typeName) {
          const location = fromBinary(LocationUpsertedSchema, stored.data).location;
          if (location) locations.push(location);
        } else if (stored.type === ChannelRuleSetSchema.typeName) {
          const rule = fromBinary(ChannelRuleSetSchema, stored.data).rule;
          if (rule) rules.push(rule);
        }
      }
      return { locations, rules };
    },
  };
}

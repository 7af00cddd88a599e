import type { ChannelRule, Location } from "@retail/contracts/retail/inventory/v1/inventory_pb";
import { RequestInvalid } from "@retail/platform/rpc";
import type { Catalog, CatalogStore } from "./ports.js";

export interface CatalogDeps {
  readonly catalog: Catalog;
  readonly catalogStore: CatalogStore;
}

/** Registers or updates a location; other instances learn it from the LocationUpserted event. */
export async function upsertLocation(deps: CatalogDeps, location: Location): Promise<Location> {
  await deps.catalogStore.saveLocation(location);
  deps.catalog.putLocation(location);
  return location;
}

/** Sets a channel's rule; every location it names must be registered. */
export async function setChannelRule(deps: CatalogDeps, rule: ChannelRule): Promise<ChannelRule> {
  const unknown = rule.locationIds
    .map((id, index) => ({ id, index }))
    .filter(({ id }) => !deps.catalog.hasLocation(id))
    .map(({ id, index }) => ({
      field: `rule.location_ids[${index}]`,
      description: `unknown location ${id}`,
    }));
  if (unknown.length > 0) throw new RequestInvalid(unknown);
  await deps.catalogStore.saveChannelRule(rule);
  deps.catalog.putRule(rule);
  return rule;
}

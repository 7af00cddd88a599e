import type { ChannelRule, Location } from "@retail/contracts/retail/inventory/v1/inventory_pb";
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

/** Sets a channel's rule (the caller has checked that every location it names is registered). */
export async function setChannelRule(deps: CatalogDeps, rule: ChannelRule): Promise<ChannelRule> {
  await deps.catalogStore.saveChannelRule(rule);
  deps.catalog.putRule(rule);
  return rule;
}

import type { AvailabilityFigure, AvailabilityView, Catalog } from "./ports.js";

export interface AvailabilityQuery {
  readonly sku: string;
  readonly locationId: string;
  /** A channel's own id: its view (locations, buffer) instead of the raw figures. */
  readonly channelId: string;
}

/** Sellable availability from this instance's read model, never from the ledger. */
export function getAvailability(
  deps: { readModel: AvailabilityView; catalog: Catalog },
  query: AvailabilityQuery,
): AvailabilityFigure[] {
  if (query.channelId) {
    const rule = deps.catalog.rule(query.channelId);
    return rule ? deps.readModel.byChannel(query.sku, rule, query.locationId || undefined) : [];
  }
  return deps.readModel.byLocation(query.sku, query.locationId || undefined);
}

import type { AvailabilityFigure, AvailabilityView, PositionView } from "../../app/ports.js";
import type { ChannelRuleState } from "../../domain/channels.js";
import { channelAvailable } from "../../domain/channels.js";
import { availableOf } from "../../domain/stock-position.js";

/**
 * The in-memory availability read model of one instance: positions by SKU and location, kept current
 * by the service's own events (every instance subscribes) and by its own writes. Events carry the
 * whole position, so an older or duplicate event is simply ignored and a gap needs no replay.
 */
export class AvailabilityReadModel implements AvailabilityView {
  readonly #bySku = new Map<string, Map<string, PositionView>>();

  /** Applies a position if it is newer than what is held; returns whether it was applied. */
  apply(position: PositionView): boolean {
    let locations = this.#bySku.get(position.sku);
    if (!locations) {
      locations = new Map();
      this.#bySku.set(position.sku, locations);
    }
    const current = locations.get(position.locationId);
    if (current && current.version >= position.version) return false;
    locations.set(position.locationId, position);
    return true;
  }

  get(sku: string, locationId: string): PositionView | undefined {
    return this.#bySku.get(sku)?.get(locationId);
  }

  available(sku: string, locationId: string): number {
    const position = this.get(sku, locationId);
    return position ? availableOf({ ...position, holds: {} }) : 0;
  }

  get size(): number {
    let n = 0;
    for (const locations of this.#bySku.values()) n += locations.size;
    return n;
  }

  /** Raw figures per location (one, or every location holding the SKU). */
  byLocation(sku: string, locationId?: string): AvailabilityFigure[] {
    const locations = this.#bySku.get(sku);
    if (!locations)
      return locationId ? [{ sku, locationId, channelId: "", available: 0, ledgerVersion: 0 }] : [];
    const chosen = locationId ? [locations.get(locationId) ?? undefined] : [...locations.values()];
    return chosen.map((p) =>
      p
        ? {
            sku,
            locationId: p.locationId,
            channelId: "",
            available: this.available(sku, p.locationId),
            ledgerVersion: p.version,
          }
        : { sku, locationId: locationId ?? "", channelId: "", available: 0, ledgerVersion: 0 },
    );
  }

  /** A channel's view: each of its locations less the buffer, then the total (location ""). */
  byChannel(sku: string, rule: ChannelRuleState, locationId?: string): AvailabilityFigure[] {
    const locationIds = locationId ? rule.locationIds.filter((l) => l === locationId) : rule.locationIds;
    const figures = locationIds.map((loc) => ({
      sku,
      locationId: loc,
      channelId: rule.channelId,
      available: channelAvailable(rule, this.available(sku, loc)),
      ledgerVersion: this.get(sku, loc)?.version ?? 0,
    }));
    if (locationId) return figures;
    return [
      ...figures,
      {
        sku,
        locationId: "",
        channelId: rule.channelId,
        available: figures.reduce((sum, f) => sum + f.available, 0),
        ledgerVersion: Math.max(0, ...figures.map((f) => f.ledgerVersion)),
      },
    ];
  }
}

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
  /** While a rebuild loads: the positions events applied meanwhile. */
  #touched: Set<string> | undefined;

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
    this.#touched?.add(keyOf(position));
    return true;
  }

  async rebuild(load: () => Promise<Iterable<PositionView>>): Promise<number> {
    const touched = new Set<string>();
    this.#touched = touched;
    let positions: Iterable<PositionView>;
    try {
      positions = await load();
    } finally {
      this.#touched = undefined;
    }
    const rebuilt = new Map<string, Map<string, PositionView>>();
    let changed = 0;
    for (const position of positions) {
      const held = this.get(position.sku, position.locationId);
      // Only what an event applied during the load may be newer than the ledger read: anything else
      // held (a figure ahead of the ledger) is what the rebuild is for.
      const fresher = held && touched.has(keyOf(held)) && held.version > position.version ? held : position;
      if (!held || !samePosition(held, fresher)) changed++;
      let locations = rebuilt.get(position.sku);
      if (!locations) {
        locations = new Map();
        rebuilt.set(position.sku, locations);
      }
      locations.set(position.locationId, fresher);
    }
    for (const [sku, locations] of this.#bySku)
      for (const [locationId, held] of locations)
        if (!rebuilt.get(sku)?.has(locationId)) {
          // New since the load began: kept. Not in the ledger at all: dropped.
          if (touched.has(keyOf(held)))
            rebuilt.set(sku, (rebuilt.get(sku) ?? new Map()).set(locationId, held));
          else changed++;
        }
    this.#bySku.clear();
    for (const [sku, locations] of rebuilt) this.#bySku.set(sku, locations);
    return changed;
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

const keyOf = (p: Pick<PositionView, "sku" | "locationId">) => `${p.sku}\u0000${p.locationId}`;

/** The figures the read model answers from (a position from the ledger may carry its holds too). */
function samePosition(a: PositionView, b: PositionView): boolean {
  return (
    a.version === b.version &&
    a.onHand === b.onHand &&
    a.reserved === b.reserved &&
    a.inTransit === b.inTransit &&
    a.damaged === b.damaged &&
    a.safetyStock === b.safetyStock
  );
}

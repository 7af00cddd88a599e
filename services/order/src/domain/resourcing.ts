/** Where a line is held now, and how much of it. */
export interface LineHold {
  readonly reservationId: string;
  readonly locationId: string;
  readonly remaining: bigint;
}

/** Sellable stock of the line's SKU at a location the order's channel may ship from. */
export interface LocationStock {
  readonly locationId: string;
  readonly available: bigint;
}

/**
 * Where a line a location could not pick goes instead: another location that can take all of what
 * was held there, the one with the most available (ties: the first listed); none when no location can.
 */
export function chooseResourceLocation(hold: LineHold, stock: readonly LocationStock[]): string | undefined {
  let best: LocationStock | undefined;
  for (const s of stock) {
    if (s.locationId === hold.locationId || s.locationId === "" || s.available < hold.remaining) continue;
    if (!best || s.available > best.available) best = s;
  }
  return best?.locationId;
}

import type { Location } from "@retail/contracts/retail/inventory/v1/inventory_pb";
import { ignoreDuplicateKey } from "@retail/platform/store";
import type { Db } from "mongodb";
import type { LocationDirectory } from "../../app/ports.js";
import { jurisdictionOf } from "../../domain/tax-rates.js";

/** A location's tax jurisdiction: its address's country and subdivision ("US-NY"), or its country. */
export function jurisdictionOfLocation(location: Location): string {
  return jurisdictionOf(
    location.address?.regionCode || location.regionCode,
    location.address?.administrativeArea ?? "",
  );
}

/**
 * `locations`: each location's jurisdiction as inventory's events last said (newer versions win). A
 * location not seen yet (the order service started after it was published) is fetched from inventory,
 * with every other location, and kept.
 */
export function createLocationDirectory(db: Db, fetchAll: () => Promise<Location[]>): LocationDirectory {
  const locations = db.collection<{ _id: string; jurisdiction: string; version: number }>("locations");
  const save: LocationDirectory["save"] = async ({ locationId, jurisdiction, version }) => {
    // A duplicate key: a newer version is kept already.
    await locations
      .updateOne(
        { _id: locationId, version: { $lt: Number(version) } },
        { $set: { jurisdiction, version: Number(version) } },
        { upsert: true },
      )
      .catch(ignoreDuplicateKey);
  };
  return {
    save,
    async jurisdictionOf(locationId) {
      const kept = await locations.findOne({ _id: locationId });
      if (kept) return { known: true, jurisdiction: kept.jurisdiction };
      let found: { known: boolean; jurisdiction: string } = { known: false, jurisdiction: "" };
      for (const location of await fetchAll()) {
        const jurisdiction = jurisdictionOfLocation(location);
        // Version 0: whatever an event brought in meanwhile is newer.
        await save({ locationId: location.locationId, jurisdiction, version: 0n });
        if (location.locationId === locationId) found = { known: true, jurisdiction };
      }
      return found;
    },
  };
}

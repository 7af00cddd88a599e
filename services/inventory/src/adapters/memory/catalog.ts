import type { ChannelRule, Location } from "@retail/contracts/retail/inventory/v1/inventory_pb";
import type { Catalog } from "../../app/ports.js";
import type { ChannelRuleState } from "../../domain/channels.js";

function ruleState(rule: ChannelRule): ChannelRuleState {
  return {
    channelId: rule.channelId,
    channel: rule.channel,
    locationIds: [...rule.locationIds],
    bufferUnits: Number(rule.bufferUnits),
    promises: [...rule.promises],
  };
}

/** The in-memory catalog of one instance, loaded at start and kept current by catalog events. */
export function createCatalog(): Catalog {
  const locations = new Map<string, Location>();
  const rules = new Map<string, ChannelRule>();
  return {
    hasLocation: (id) => locations.has(id),
    locationType: (id) => locations.get(id)?.type,
    locationIds: () => [...locations.keys()],
    locations: () => [...locations.values()],
    rule: (channelId) => {
      const rule = rules.get(channelId);
      return rule ? ruleState(rule) : undefined;
    },
    rules: () => [...rules.values()],
    rulesFeeding: (locationId) =>
      [...rules.values()].filter((r) => r.locationIds.includes(locationId)).map(ruleState),
    putLocation: (location) => void locations.set(location.locationId, location),
    putRule: (rule) => void rules.set(rule.channelId, rule),
  };
}

import { fromBinary } from "@bufbuild/protobuf";
import { LocationUpsertedSchema } from "@retail/contracts/retail/inventory/v1/inventory_events_pb";
import {
  type Consumer,
  decodeThen,
  type ReceivedEvent,
  type ServiceConsumerWiring,
  startServiceConsumer,
} from "@retail/platform/amqp";
import type { LocationDirectory } from "../../app/ports.js";
import { jurisdictionOfLocation } from "../mongo/location-directory.js";

export const locationEventsQueue = "order.location-events";

/** A location as the order service keeps it: its tax jurisdiction, at its stream version. */
export function locationOf(event: ReceivedEvent) {
  if (event.type !== LocationUpsertedSchema.typeName) return undefined;
  const upserted = fromBinary(LocationUpsertedSchema, event.data);
  if (!upserted.location) return undefined;
  return {
    locationId: upserted.location.locationId,
    jurisdiction: jurisdictionOfLocation(upserted.location),
    version: upserted.metadata?.aggregateVersion ?? 0n,
  };
}

/** `order.location-events`: inventory's locations, for the jurisdiction of pickups and store sales. */
export function startLocationEventsConsumer(
  options: ServiceConsumerWiring & {
    locations: LocationDirectory;
  },
): Promise<Consumer> {
  return startServiceConsumer(options, {
    queue: locationEventsQueue,
    bindings: ["inventory.location_upserted"],
    handle: decodeThen(locationOf, (location) => options.locations.save(location)),
  });
}

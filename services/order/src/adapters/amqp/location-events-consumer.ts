import { fromBinary } from "@bufbuild/protobuf";
import { LocationUpsertedSchema } from "@retail/contracts/retail/inventory/v1/inventory_events_pb";
import {
  type AmqpConnectionManager,
  type Consumer,
  decodeThen,
  type ReceivedEvent,
  startConsumer,
} from "@retail/platform/amqp";
import type { Logger } from "@retail/platform/log";
import type { Metrics } from "@retail/platform/metrics";
import type { Inbox } from "@retail/platform/store";
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
export function startLocationEventsConsumer(options: {
  connection: AmqpConnectionManager;
  exchange: string;
  queuePrefix: string;
  locations: LocationDirectory;
  inbox: Inbox;
  logger: Logger;
  metrics: Metrics;
}): Promise<Consumer> {
  return startConsumer({
    connection: options.connection,
    queue: `${options.queuePrefix}${locationEventsQueue}`,
    exchange: options.exchange,
    bindings: ["inventory.location_upserted"],
    inbox: options.inbox,
    logger: options.logger,
    metrics: options.metrics,
    handle: decodeThen(locationOf, (location) => options.locations.save(location)),
  });
}

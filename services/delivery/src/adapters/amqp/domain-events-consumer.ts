import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { CustomerErasedSchema } from "@retail/contracts/retail/customer/v1/customer_events_pb";
import {
  type Consumer,
  decodeThen,
  type ServiceConsumerWiring,
  startServiceConsumer,
} from "@retail/platform/amqp";
import { redactPersonal } from "@retail/platform/personal";
import type { DeliveryDeps } from "../../app/ports.js";
import { recordEvent } from "../../app/record-event.js";
import { domainEvents, eventJson } from "../event-registry.js";

/**
 * `delivery.domain-events`, bound to every domain's events (`#`) but delivery's own: each event is
 * recorded for the subscriptions that take it, then the dispatcher is woken. An erasure also rewrites
 * the stored copies of the customer's events (their personal fields emptied), delivered or not.
 */
export function startDomainEventsConsumer(
  wiring: ServiceConsumerWiring,
  deps: DeliveryDeps,
  wake: () => void,
): Promise<Consumer> {
  return startServiceConsumer(wiring, {
    queue: "delivery.domain-events",
    bindings: ["customer.#", "inventory.#", "order.#", "finance.#"],
    handle: decodeThen(
      (event) => ({ event, json: eventJson(event.type, event.data) ?? null }),
      async ({ event, json }) => {
        if (event.type === CustomerErasedSchema.typeName) {
          const { customerId } = fromBinary(CustomerErasedSchema, event.data);
          const erased = await deps.deliveries.eraseCustomer(customerId, (type, data) => {
            const schema = domainEvents.getMessage(type);
            return schema ? toBinary(schema, redactPersonal(schema, fromBinary(schema, data))) : undefined;
          });
          deps.logger.info({ customerId, erased }, "erased a customer from stored deliveries");
        }
        const recorded = await recordEvent(deps, {
          eventId: event.id,
          type: event.type,
          routingKey: event.routingKey,
          source: event.source,
          aggregateId: event.subject,
          sequence: event.sequence,
          time: event.time,
          correlationId: event.correlationId,
          data: event.data,
          json,
        });
        if (recorded > 0) wake();
      },
    ),
  });
}

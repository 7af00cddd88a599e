import { fromBinary } from "@bufbuild/protobuf";
import {
  CustomersMergedSchema,
  CustomerUnmergedSchema,
} from "@retail/contracts/retail/customer/v1/customer_events_pb";
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
import type { OrderViews } from "../../app/ports.js";

export const customerEventsQueue = "order.customer-events";

interface CustomerChange {
  kind: "merged" | "unmerged";
  survivorId: string;
  ids: readonly string[];
}

/** A customer event as the order read model follows it (undefined: not a merge or unmerge). */
export function customerChangeOf(event: ReceivedEvent): CustomerChange | undefined {
  if (event.type === CustomersMergedSchema.typeName) {
    const merged = fromBinary(CustomersMergedSchema, event.data);
    return { kind: "merged", survivorId: merged.survivorCustomerId, ids: merged.mergedCustomerIds };
  }
  if (event.type === CustomerUnmergedSchema.typeName) {
    const unmerged = fromBinary(CustomerUnmergedSchema, event.data);
    return { kind: "unmerged", survivorId: unmerged.customerId, ids: [unmerged.restoredCustomerId] };
  }
  return undefined;
}

/**
 * `order.customer-events`: merges and unmerges of customers, so orders stay listed under the customer
 * callers know today (a merged-away customer's orders under the survivor, given back on unmerge). Each
 * event applies once (inbox); applying one twice would change nothing anyway.
 */
export function startCustomerEventsConsumer(options: {
  connection: AmqpConnectionManager;
  exchange: string;
  queuePrefix: string;
  views: OrderViews;
  inbox: Inbox;
  logger: Logger;
  metrics: Metrics;
}): Promise<Consumer> {
  return startConsumer({
    connection: options.connection,
    queue: `${options.queuePrefix}${customerEventsQueue}`,
    exchange: options.exchange,
    bindings: ["customer.customers_merged", "customer.customer_unmerged"],
    inbox: options.inbox,
    logger: options.logger,
    metrics: options.metrics,
    handle: decodeThen(customerChangeOf, async (change) => {
      for (const id of change.ids) {
        if (change.kind === "merged") await options.views.customerMerged(change.survivorId, id);
        else await options.views.customerUnmerged(change.survivorId, id);
      }
    }),
  });
}

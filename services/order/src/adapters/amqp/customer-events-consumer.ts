import { fromBinary } from "@bufbuild/protobuf";
import {
  CustomerErasedSchema,
  CustomersMergedSchema,
  CustomerUnmergedSchema,
} from "@retail/contracts/retail/customer/v1/customer_events_pb";
import {
  type Consumer,
  decodeThen,
  type ReceivedEvent,
  type ServiceConsumerWiring,
  startServiceConsumer,
} from "@retail/platform/amqp";
import { createKeyedLock } from "@retail/platform/store";
import type { OrderViews } from "../../app/ports.js";

export const customerEventsQueue = "order.customer-events";

/** A customer merged into a survivor (survivorId) or split back out (survivorId ""), at a version. */
interface CustomerLink {
  customerId: string;
  survivorId: string;
  /** The version of that customer's own stream: older or repeated changes are ignored. */
  version: bigint;
}

/** Whether an event was recorded on this customer's own stream ("customer:<id>"). */
function onStreamOf(aggregateId: string | undefined, customerId: string): boolean {
  return aggregateId === `customer:${customerId}` || aggregateId === customerId;
}

/**
 * A merge or unmerge as the order read model follows it: only the copy recorded on the merged (or
 * restored) customer's own stream counts, since its version orders that customer's merges and
 * unmerges; the survivor's copy is skipped (undefined).
 */
export function customerLinkOf(event: ReceivedEvent): CustomerLink | undefined {
  if (event.type === CustomersMergedSchema.typeName) {
    const merged = fromBinary(CustomersMergedSchema, event.data);
    const [customerId] = merged.mergedCustomerIds;
    if (!customerId || !onStreamOf(merged.metadata?.aggregateId, customerId)) return undefined;
    return {
      customerId,
      survivorId: merged.survivorCustomerId,
      version: merged.metadata?.aggregateVersion ?? 0n,
    };
  }
  if (event.type === CustomerUnmergedSchema.typeName) {
    const unmerged = fromBinary(CustomerUnmergedSchema, event.data);
    const customerId = unmerged.restoredCustomerId;
    if (!onStreamOf(unmerged.metadata?.aggregateId, customerId)) return undefined;
    return { customerId, survivorId: "", version: unmerged.metadata?.aggregateVersion ?? 0n };
  }
  return undefined;
}

/** What the order service does with a customer event: follow a merge or unmerge, or erase. */
type CustomerChange = { kind: "link"; link: CustomerLink } | { kind: "erased"; customerId: string };

function customerChangeOf(event: ReceivedEvent): CustomerChange | undefined {
  if (event.type === CustomerErasedSchema.typeName) {
    return { kind: "erased", customerId: fromBinary(CustomerErasedSchema, event.data).customerId };
  }
  const link = customerLinkOf(event);
  return link ? { kind: "link", link } : undefined;
}

export function startCustomerEventsConsumer(
  options: ServiceConsumerWiring & {
    views: OrderViews;
    /** Rewrites what the service holds of an erased customer. */
    erase: (customerId: string) => Promise<unknown>;
  },
): Promise<Consumer> {
  // One customer's merges and unmerges are applied one at a time here (their versions order them).
  const lock = createKeyedLock();
  return startServiceConsumer(options, {
    queue: customerEventsQueue,
    bindings: ["customer.customers_merged", "customer.customer_unmerged", "customer.customer_erased"],
    handle: decodeThen(customerChangeOf, (change) =>
      change.kind === "erased"
        ? lock(change.customerId, () => options.erase(change.customerId))
        : lock(change.link.customerId, () =>
            options.views.customerLink(change.link.customerId, change.link.survivorId, change.link.version),
          ),
    ),
  });
}

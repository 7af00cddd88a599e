import { type DescMessage, fromBinary, toBinary } from "@bufbuild/protobuf";
import { CustomerErasedSchema } from "@retail/contracts/retail/customer/v1/customer_events_pb";
import type { AmqpConnectionManager } from "amqp-connection-manager";
import type { Logger } from "../log/index.js";
import type { Metrics } from "../metrics/index.js";
import { holdsPersonalData, redactPersonal } from "../personal/index.js";
import type { Inbox } from "../store/inbox.js";
import { decodeThen } from "./cloudevents.js";
import { type Consumer, startConsumer } from "./consumer.js";
import { rewriteWaiting } from "./rewrite-waiting.js";

/**
 * `<consumer>.customer-events`, bound to `customer.customer_erased` only: each erasure calls `erase`
 * with the customer's id, once (inbox). Every holder of a copy of personal data runs one.
 */
export function startErasureConsumer(options: {
  connection: AmqpConnectionManager;
  exchange: string;
  /** The queue, `<prefix><consumer>.customer-events`. */
  queue: string;
  inbox: Inbox;
  logger: Logger;
  metrics?: Metrics;
  erase: (customerId: string) => Promise<void>;
}): Promise<Consumer> {
  return startConsumer({
    connection: options.connection,
    queue: options.queue,
    exchange: options.exchange,
    bindings: ["customer.customer_erased"],
    inbox: options.inbox,
    logger: options.logger,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    handle: decodeThen(
      (event) =>
        event.type === CustomerErasedSchema.typeName
          ? fromBinary(CustomerErasedSchema, event.data).customerId
          : undefined,
      options.erase,
    ),
  });
}

/**
 * Empties the personal fields of an erased customer's events still waiting in a consumer's retry and
 * parking queues: events of a type that holds personal data and that name the customer's id. The
 * other waiting messages are put back untouched. Returns how many were rewritten.
 */
export function eraseFromWaiting(
  connection: AmqpConnectionManager,
  queue: string,
  customerId: string,
  schemas: readonly DescMessage[],
): Promise<number> {
  const byType = new Map(schemas.filter((s) => holdsPersonalData(s)).map((s) => [s.typeName, s]));
  const needle = Buffer.from(customerId, "utf8");
  return rewriteWaiting(connection, queue, (message) => {
    const schema = byType.get(String(message.properties.headers?.["ce-type"] ?? ""));
    if (!schema || !message.content.includes(needle)) return undefined;
    return Buffer.from(toBinary(schema, redactPersonal(schema, fromBinary(schema, message.content))));
  });
}

/**
 * The erasure consumer of a service whose only copies of a customer's personal data are events
 * waiting in one of its queues (retrying or parked): each erasure rewrites them (eraseFromWaiting).
 */
export function startWaitingEventsErasure(
  options: Omit<Parameters<typeof startErasureConsumer>[0], "erase"> & {
    /** The queue whose waiting events are rewritten, `<prefix><consumer>.<source>-events`. */
    waitingQueue: string;
    schemas: readonly DescMessage[];
  },
): Promise<Consumer> {
  const { waitingQueue, schemas, ...consumer } = options;
  return startErasureConsumer({
    ...consumer,
    async erase(customerId) {
      const rewritten = await eraseFromWaiting(options.connection, waitingQueue, customerId, schemas);
      options.logger.info(
        { customerId, queue: waitingQueue, rewritten },
        "erased a customer from waiting events",
      );
    },
  });
}

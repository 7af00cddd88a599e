import { fromBinary } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import {
  ChannelRuleSetSchema,
  LocationUpsertedSchema,
  StockMovementRecordedSchema,
} from "@retail/contracts/retail/inventory/v1/inventory_events_pb";
import { readModelRebuildFor, readModelRebuildRoutingKey } from "@retail/platform/admin";
import { type AmqpConnectionManager, eventsExchange } from "@retail/platform/amqp";
import type { Logger } from "@retail/platform/log";
import type { ConfirmChannel, ConsumeMessage } from "amqplib";
import type { Histogram } from "prom-client";
import type { AvailabilityView, Catalog } from "../../app/ports.js";
import { positionFromEvent } from "../position-codec.js";

export const readModelBindings = [
  "inventory.stock_movement_recorded",
  "inventory.location_upserted",
  "inventory.channel_rule_set",
] as const;

/**
 * Keeps this instance's read model and catalog current from the service's own events, through a
 * queue of its own (exclusive, gone with the instance's connection: events published while it is
 * away are not kept for it). So after every (re)subscription `onSubscribed` runs, for the caller to
 * catch up from the ledger. Events carry whole positions; older ones are ignored.
 */
export async function startReadModelFeed(options: {
  connection: AmqpConnectionManager;
  exchange?: string;
  readModel: AvailabilityView;
  catalog: Catalog;
  logger: Logger;
  lag?: Histogram;
  /** Called each time the queue is bound and consumed again (the first time, and after a reconnect). */
  onSubscribed?: () => void;
  /** An operator asked inventory's instances to rebuild this read model (AdminService.RebuildReadModel). */
  onRebuildRequested?: (readModel: string, requestId: string) => void;
}): Promise<{ close(): Promise<void> }> {
  const { readModel, catalog, logger } = options;
  const exchange = options.exchange ?? eventsExchange;
  const onMessage = (channel: ConfirmChannel) => (message: ConsumeMessage | null) => {
    if (!message) return;
    try {
      const type = String(message.properties.headers?.["ce-type"] ?? "");
      if (type === StockMovementRecordedSchema.typeName) {
        const recorded = fromBinary(StockMovementRecordedSchema, message.content);
        const p = recorded.position;
        if (p) readModel.apply(positionFromEvent(p));
        const recordTime = recorded.movement?.recordTime;
        if (recordTime)
          options.lag?.observe(Math.max(0, (Date.now() - timestampDate(recordTime).getTime()) / 1000));
      } else if (type === LocationUpsertedSchema.typeName) {
        const location = fromBinary(LocationUpsertedSchema, message.content).location;
        if (location) catalog.putLocation(location);
      } else if (type === ChannelRuleSetSchema.typeName) {
        const rule = fromBinary(ChannelRuleSetSchema, message.content).rule;
        if (rule) catalog.putRule(rule);
      } else {
        const rebuild = readModelRebuildFor("inventory", type, message.content);
        if (rebuild) options.onRebuildRequested?.(rebuild.readModel, rebuild.requestId);
      }
    } catch (error) {
      logger.warn({ err: error }, "read model feed skipped an undecodable event");
    }
    channel.ack(message);
  };
  const wrapper = options.connection.createChannel({
    name: "inventory-read-model-feed",
    setup: async (channel: ConfirmChannel) => {
      await channel.assertExchange(exchange, "topic", { durable: true });
      const { queue } = await channel.assertQueue("", { exclusive: true, autoDelete: true, durable: false });
      for (const key of [...readModelBindings, readModelRebuildRoutingKey])
        await channel.bindQueue(queue, exchange, key);
      await channel.prefetch(256);
      await channel.consume(queue, onMessage(channel), { noAck: false });
      options.onSubscribed?.();
    },
  });
  await wrapper.waitForConnect();
  return { close: () => wrapper.close() };
}

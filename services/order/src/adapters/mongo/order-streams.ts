import { type DescMessage, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  ChargebackOpenedSchema,
  ChargebackReversedSchema,
  MarketplaceOrderAcknowledgedSchema,
  OrderAcceptedSchema,
  OrderLineCancelledSchema,
  OrderLineResourcedSchema,
  OrderPickedUpSchema,
  OrderReadyForPickupSchema,
  OrderReceivedSchema,
  OrderRejectedSchema,
  OrderReturnedSchema,
  PaymentCapturedSchema,
  PaymentEventRecordedSchema,
  RefundIssuedSchema,
  ShipmentDispatchedSchema,
  TaxHoldReleasedSchema,
} from "@retail/contracts/retail/order/v1/order_events_pb";
import type { Order } from "@retail/contracts/retail/order/v1/order_pb";
import { holdsPersonalData, redactPersonal } from "@retail/platform/personal";
import { event, type StoredEvent, type StreamStore } from "@retail/platform/store";
import type { OrderStreams } from "../../app/ports.js";
import { evolve, type OrderEvent } from "../../domain/order.js";

const schemas = new Map<string, DescMessage>(
  [
    OrderReceivedSchema,
    OrderAcceptedSchema,
    OrderRejectedSchema,
    OrderLineCancelledSchema,
    ShipmentDispatchedSchema,
    OrderReadyForPickupSchema,
    OrderPickedUpSchema,
    OrderReturnedSchema,
    PaymentCapturedSchema,
    RefundIssuedSchema,
    ChargebackOpenedSchema,
    ChargebackReversedSchema,
    PaymentEventRecordedSchema,
    MarketplaceOrderAcknowledgedSchema,
    OrderLineResourcedSchema,
    TaxHoldReleasedSchema,
  ].map((s) => [s.typeName, s]),
);

export function orderStreamId(orderId: string): string {
  return `order:${orderId}`;
}

function schemaOf(e: OrderEvent): DescMessage {
  const schema = schemas.get(e.$typeName);
  if (!schema) throw new Error(`no schema for ${e.$typeName}`);
  return schema;
}

/** An order's stored events folded by the domain's evolve (undefined for an empty stream). */
function fold(events: readonly StoredEvent[]): Order | undefined {
  let order: Order | undefined;
  for (const stored of events) {
    const schema = schemas.get(stored.type);
    if (!schema) continue;
    order = evolve(order, fromBinary(schema, stored.data) as OrderEvent, stored.version, stored.occurredAt);
  }
  return order;
}

/** Order streams on the platform stream store, folded by the domain's evolve. */
export function createOrderStreams(store: StreamStore): OrderStreams {
  return {
    async redact(orderId) {
      return store.rewrite(orderStreamId(orderId), (stored) => {
        const schema = schemas.get(stored.type);
        if (!schema || !holdsPersonalData(schema)) return undefined;
        return toBinary(schema, redactPersonal(schema, fromBinary(schema, stored.data)));
      });
    },

    async load(orderId) {
      return fold(await store.read(orderStreamId(orderId)));
    },

    async loadFor(orderId, request) {
      const { events, applied } = await store.readFor(orderStreamId(orderId), request);
      return { order: fold(events), applied: applied !== undefined };
    },

    async append(orderId, order, events, options) {
      const version = Number(order?.version ?? 0n);
      const result = await store.append(
        orderStreamId(orderId),
        version,
        events.map((e) => event(schemaOf(e), e)),
        options,
      );
      if (result.replayed) {
        const current = await this.load(orderId);
        if (!current) throw new Error(`order ${orderId} vanished`);
        return current;
      }
      let after = order;
      for (const [i, e] of events.entries()) {
        after = evolve(after, e, version + i + 1, result.events[i]?.occurredAt ?? new Date());
      }
      if (!after) throw new Error("no events appended");
      return after;
    },
  };
}

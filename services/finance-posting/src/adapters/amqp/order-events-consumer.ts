import { fromBinary } from "@bufbuild/protobuf";
import { type Timestamp, timestampDate } from "@bufbuild/protobuf/wkt";
import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import {
  ChargebackOpenedSchema,
  ChargebackReversedSchema,
  OrderAcceptedSchema,
  OrderPickedUpSchema,
  PaymentCapturedSchema,
  RefundBasis,
  RefundIssuedSchema,
  ShipmentDispatchedSchema,
} from "@retail/contracts/retail/order/v1/order_events_pb";
import type { PaymentEvent } from "@retail/contracts/retail/order/v1/order_pb";
import type { LineAmounts } from "@retail/contracts/retail/order/v1/order_service_pb";
import {
  type Consumer,
  decodeThen,
  type ReceivedEvent,
  type ServiceConsumerWiring,
  startServiceConsumer,
} from "@retail/platform/amqp";
import { type OrderEvent, postOrderEvent } from "../../app/order-postings.js";
import type { FinanceDeps } from "../../app/ports.js";

export const orderEventsQueue = "finance.order-events";

/** The order events this queue carries (what erasure looks for among the messages waiting in it). */
export const orderEventSchemas = [
  OrderAcceptedSchema,
  PaymentCapturedSchema,
  ShipmentDispatchedSchema,
  OrderPickedUpSchema,
  RefundIssuedSchema,
  ChargebackOpenedSchema,
  ChargebackReversedSchema,
];

const channelName = (c: Channel) => Channel[c] ?? "UNSPECIFIED";
const dateOf = (event: ReceivedEvent, at: Timestamp | undefined) =>
  (at ? timestampDate(at) : event.time).toISOString().slice(0, 10);

function movement(event: ReceivedEvent, orderId: string, channel: Channel, p: PaymentEvent | undefined) {
  return {
    eventId: event.id,
    eventType: event.type,
    orderId,
    channel: channelName(channel),
    currency: p?.amount?.currencyCode ?? "",
    date: dateOf(event, p?.occurTime),
    amount: p?.amount?.minorUnits ?? 0n,
    paymentMethod: p?.paymentMethod ?? "",
    provider: p?.provider ?? "",
    providerReference: p?.providerReference ?? "",
  };
}

const factLines = (lines: readonly LineAmounts[]) =>
  lines.map((l) => ({
    sku: l.sku,
    taxCode: l.taxCode,
    net: l.netAmount?.minorUnits ?? 0n,
    discount: l.discount?.minorUnits ?? 0n,
    tax: l.tax?.minorUnits ?? 0n,
  }));

/** An order event as finance reads it (undefined: one finance does not post). */
export function orderEventOf(event: ReceivedEvent): OrderEvent | undefined {
  switch (event.type) {
    case OrderAcceptedSchema.typeName: {
      const o = fromBinary(OrderAcceptedSchema, event.data).order;
      if (!o) return undefined;
      return {
        kind: "accepted",
        orderId: o.orderId,
        channel: channelName(o.channel),
        // A POS order's store is where its lines are handed over (its money and its goods in one
        // store's lines), else the channel id it came under.
        storeId:
          o.channel === Channel.POS
            ? o.lines.find((l) => l.fulfillmentLocationId)?.fulfillmentLocationId || o.channelId
            : "",
        currency: o.grandTotal?.currencyCode ?? "",
        shipping: o.shippingTotal?.minorUnits ?? 0n,
      };
    }
    case PaymentCapturedSchema.typeName: {
      const e = fromBinary(PaymentCapturedSchema, event.data);
      return { kind: "captured", fee: 0n, ...movement(event, e.orderId, e.channel, e.paymentEvent) };
    }
    case RefundIssuedSchema.typeName: {
      const e = fromBinary(RefundIssuedSchema, event.data);
      return {
        kind: "refunded",
        tax: e.taxRefunded?.minorUnits ?? 0n,
        lines: factLines(e.lines),
        basis:
          e.basis === RefundBasis.DELIVERED
            ? "delivered"
            : e.basis === RefundBasis.UNDELIVERED
              ? "undelivered"
              : undefined,
        ...movement(event, e.orderId, e.channel, e.paymentEvent),
      };
    }
    case ChargebackOpenedSchema.typeName: {
      const e = fromBinary(ChargebackOpenedSchema, event.data);
      return {
        kind: "chargeback",
        fee: e.fee?.minorUnits ?? 0n,
        ...movement(event, e.orderId, Channel.UNSPECIFIED, e.paymentEvent),
      };
    }
    case ChargebackReversedSchema.typeName: {
      const e = fromBinary(ChargebackReversedSchema, event.data);
      return { kind: "chargeback_reversed", ...movement(event, e.orderId, e.channel, e.paymentEvent) };
    }
    case ShipmentDispatchedSchema.typeName:
    case OrderPickedUpSchema.typeName: {
      const shipped = event.type === ShipmentDispatchedSchema.typeName;
      const e = shipped
        ? fromBinary(ShipmentDispatchedSchema, event.data)
        : fromBinary(OrderPickedUpSchema, event.data);
      const storeId = "locationId" in e ? e.locationId : "";
      return {
        kind: "delivered",
        eventId: event.id,
        eventType: event.type,
        orderId: e.orderId,
        channel: channelName(e.channel),
        storeId,
        currency: e.lines[0]?.netAmount?.currencyCode ?? "",
        date: event.time.toISOString().slice(0, 10),
        lines: factLines(e.lines),
      };
    }
    default:
      return undefined;
  }
}

/**
 * `finance.order-events`: acceptances, captures, deliveries, refunds and chargebacks post to the
 * journal, each exactly once (inbox, and posting keys derived from the event id).
 */
export function startOrderEventsConsumer(
  options: ServiceConsumerWiring & {
    deps: FinanceDeps;
  },
): Promise<Consumer> {
  return startServiceConsumer(options, {
    queue: orderEventsQueue,
    bindings: [
      "order.order_accepted",
      "order.payment_captured",
      "order.shipment_dispatched",
      "order.order_picked_up",
      "order.refund_issued",
      "order.chargeback_opened",
      "order.chargeback_reversed",
    ],
    handle: decodeThen(orderEventOf, (event) => postOrderEvent(options.deps, event)),
  });
}

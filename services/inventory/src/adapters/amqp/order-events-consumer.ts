import { fromBinary } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import {
  OrderLineCancelledSchema,
  OrderPickedUpSchema,
  OrderRejectedSchema,
  OrderReturnedSchema,
  ShipmentDispatchedSchema,
} from "@retail/contracts/retail/order/v1/order_events_pb";
import { ReturnCondition } from "@retail/contracts/retail/order/v1/order_pb";
import {
  type Consumer,
  decodeThen,
  type ReceivedEvent,
  type ServiceConsumerWiring,
  startServiceConsumer,
} from "@retail/platform/amqp";
import { eventRequest } from "@retail/platform/store";
import { applyOrderFulfilment, type OrderFulfilment } from "../../app/apply-order-fulfilment.js";
import { bookReturn, type OrderReturn } from "../../app/book-return.js";
import type { ReservationDeps } from "../../app/reserve-stock.js";

const linesOf = (lines: ReadonlyArray<{ lineId: string; quantity: bigint; sku: string }>) =>
  lines.map((l) => ({ lineId: l.lineId, quantity: Number(l.quantity), sku: l.sku }));

/** Quantities of a shipment's or a return's lines, each with its SKU from the order lines the event carries. */
function withSkus(
  quantities: ReadonlyArray<{ lineId: string; quantity: bigint }>,
  orderLines: ReadonlyArray<{ lineId: string; sku: string }>,
) {
  const skus = new Map(orderLines.map((l) => [l.lineId, l.sku]));
  return quantities.map((l) => ({
    lineId: l.lineId,
    quantity: Number(l.quantity),
    sku: skus.get(l.lineId) ?? "",
  }));
}

/** A return an order recorded, as inventory books it (undefined: not a return event). */
export function returnOf(event: ReceivedEvent): OrderReturn | undefined {
  if (event.type !== OrderReturnedSchema.typeName) return undefined;
  const e = fromBinary(OrderReturnedSchema, event.data);
  const returned = e.return?.lines ?? [];
  const receiveTime = e.return?.receiveTime;
  return {
    orderId: e.orderId,
    returnId: e.return?.returnId ?? "",
    locationId: e.return?.locationId ?? "",
    receiveTime: receiveTime ? timestampDate(receiveTime) : undefined,
    lines: withSkus(returned, e.lines).map((l, i) => ({
      ...l,
      damaged: returned[i]?.condition === ReturnCondition.DAMAGED,
    })),
  };
}

/** What inventory does with an order event: change reservations, or book a return. */
type OrderStockEvent =
  | { kind: "fulfilment"; fulfilment: OrderFulfilment }
  | { kind: "return"; received: OrderReturn };

function stockEventOf(event: ReceivedEvent): OrderStockEvent | undefined {
  const received = returnOf(event);
  if (received) return { kind: "return", received };
  const fulfilment = fulfilmentOf(event);
  return fulfilment ? { kind: "fulfilment", fulfilment } : undefined;
}

/** Reads an order event as the reservation change it implies (undefined: not one inventory acts on). */
export function fulfilmentOf(event: ReceivedEvent): OrderFulfilment | undefined {
  const base = { locationId: "", reason: "", occurTime: undefined };
  switch (event.type) {
    case OrderLineCancelledSchema.typeName: {
      const e = fromBinary(OrderLineCancelledSchema, event.data);
      return {
        ...base,
        request: eventRequest(OrderLineCancelledSchema, e, event.id),
        kind: "release",
        orderId: e.orderId,
        lines: linesOf(e.lines),
        reason: e.reason || "line cancelled",
      };
    }
    case OrderRejectedSchema.typeName: {
      const e = fromBinary(OrderRejectedSchema, event.data);
      return {
        ...base,
        request: eventRequest(OrderRejectedSchema, e, event.id),
        kind: "release",
        orderId: e.orderId,
        lines: [],
        reason: "order rejected",
      };
    }
    case ShipmentDispatchedSchema.typeName: {
      const e = fromBinary(ShipmentDispatchedSchema, event.data);
      const shipTime = e.shipment?.shipTime;
      return {
        ...base,
        request: eventRequest(ShipmentDispatchedSchema, e, event.id),
        kind: "commit",
        orderId: e.orderId,
        lines: withSkus(e.shipment?.lines ?? [], e.lines),
        locationId: e.shipment?.fromLocationId ?? "",
        occurTime: shipTime ? timestampDate(shipTime) : undefined,
      };
    }
    case OrderPickedUpSchema.typeName: {
      const e = fromBinary(OrderPickedUpSchema, event.data);
      return {
        ...base,
        request: eventRequest(OrderPickedUpSchema, e, event.id),
        kind: "commit",
        orderId: e.orderId,
        lines: linesOf(e.lines),
        locationId: e.locationId,
      };
    }
    default:
      return undefined;
  }
}

export const orderEventsQueue = "inventory.order-events";

/** The order events this queue carries (what erasure looks for among the messages waiting in it). */
export const orderEventSchemas = [
  OrderLineCancelledSchema,
  OrderRejectedSchema,
  ShipmentDispatchedSchema,
  OrderPickedUpSchema,
  OrderReturnedSchema,
];

/**
 * `inventory.order-events`: cancellations and rejections release an order's reservations, shipments
 * and pickups commit them. Each event applies once (inbox, and its id as the request id).
 */
export function startOrderEventsConsumer(
  options: ServiceConsumerWiring & {
    deps: ReservationDeps;
  },
): Promise<Consumer> {
  return startServiceConsumer(options, {
    queue: orderEventsQueue,
    bindings: [
      "order.order_line_cancelled",
      "order.order_rejected",
      "order.shipment_dispatched",
      "order.order_picked_up",
      "order.order_returned",
    ],
    handle: decodeThen(stockEventOf, (stock) =>
      stock.kind === "return"
        ? bookReturn(options.deps, stock.received)
        : applyOrderFulfilment(options.deps, stock.fulfilment),
    ),
  });
}

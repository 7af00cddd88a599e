import { create } from "@bufbuild/protobuf";
import {
  OrderAcceptedSchema,
  OrderPickedUpSchema,
  OrderRejectedSchema,
} from "@retail/contracts/retail/order/v1/order_events_pb";
import {
  LineStatus,
  type Order,
  type OrderLine,
  OrderStatus,
} from "@retail/contracts/retail/order/v1/order_pb";
import { isCarryOut, type OrderEvent, openQuantity } from "./order.js";
import { lineAmounts } from "./order-changes.js";

/** What an SKU lacked when inventory refused to hold an order's stock. */
export interface StockShortage {
  readonly sku: string;
  readonly locationId: string;
  readonly requested: bigint;
  readonly available: bigint;
}

/** Why inventory would not hold an order's stock, as facts (never its message text). */
export type StockRefusal =
  | { readonly kind: "insufficient-stock"; readonly shortages: readonly StockShortage[] }
  | { readonly kind: "invalid"; readonly violations: ReadonlyArray<{ field: string; description: string }> }
  | { readonly kind: "refused"; readonly reason: string };

/** A stock refusal in the words an order's rejection reasons carry, built from its facts. */
export function stockRefusalReason(refusal: StockRefusal): string {
  switch (refusal.kind) {
    case "insufficient-stock":
      return `insufficient stock: ${refusal.shortages
        .map(
          (s) =>
            `${s.sku} at ${s.locationId || "any location"} requested ${s.requested}, available ${s.available}`,
        )
        .join("; ")}`;
    case "invalid":
      return `stock request invalid: ${refusal.violations.map((v) => `${v.field} ${v.description}`).join("; ")}`;
    case "refused":
      return `stock refused: ${refusal.reason}`;
  }
}

/** What the acceptance saga found out: the customer and the stock, or why not. */
export interface AcceptanceFacts {
  readonly customerId: string;
  readonly reservationIds: readonly string[];
  /** Every reason the order cannot be accepted; none when it can. */
  readonly reasons: readonly string[];
}

/**
 * What the till already did for an accepted order's carry-out lines: they were collected at their
 * store (one OrderPickedUp per store), so inventory takes them off its on hand and finance books them
 * delivered. Nothing for an order without such lines.
 */
export function handOverAtTill(accepted: Order): OrderEvent[] {
  const byStore = new Map<string, OrderLine[]>();
  for (const line of accepted.lines) {
    if (!isCarryOut(line) || openQuantity(line) <= 0n) continue;
    const lines = byStore.get(line.fulfillmentLocationId);
    if (lines) lines.push(line);
    else byStore.set(line.fulfillmentLocationId, [line]);
  }
  return [...byStore].map(([locationId, lines]) =>
    create(OrderPickedUpSchema, {
      orderId: accepted.orderId,
      channel: accepted.channel,
      locationId,
      lines: lines.map((l) =>
        lineAmounts(accepted, l, l.shippedQuantity + l.cancelledQuantity, openQuantity(l)),
      ),
    }),
  );
}

/**
 * The end of an order's acceptance: ACCEPTED with its customer and reservations, every line accepted;
 * or REJECTED with every reason found (inventory releases what was reserved when it sees it).
 */
export function decideAcceptance(order: Order, facts: AcceptanceFacts): OrderEvent {
  if (facts.reasons.length > 0) {
    return create(OrderRejectedSchema, {
      orderId: order.orderId,
      channel: order.channel,
      channelOrderId: order.channelOrderId,
      reasons: [...facts.reasons],
    });
  }
  return create(OrderAcceptedSchema, {
    order: {
      ...order,
      customerId: facts.customerId,
      reservationIds: [...facts.reservationIds],
      status: OrderStatus.ACCEPTED,
      lines: order.lines.map((l) => ({ ...l, status: LineStatus.ACCEPTED })),
    },
  });
}

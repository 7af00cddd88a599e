import { createHash } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Channel, PostalAddress } from "@retail/contracts/retail/common/v1/common_pb";
import type { Money } from "@retail/contracts/retail/common/v1/money_pb";
import { OrderReceivedSchema } from "@retail/contracts/retail/order/v1/order_events_pb";
import {
  FulfillmentType,
  LineStatus,
  type Order,
  OrderSchema,
  OrderStatus,
} from "@retail/contracts/retail/order/v1/order_pb";
import type { OrderCustomer, SubmitOrderLine } from "@retail/contracts/retail/order/v1/order_service_pb";
import { ConcurrencyConflict, type RequestRef, requestKey } from "@retail/platform/store";
import { decideAcceptance, handOverAtTill, stockRefusalReason } from "../domain/acceptance.js";
import { money, units } from "../domain/money.js";
import { isCarryOut } from "../domain/order.js";
import { defaultTaxCode, priceWithTax } from "./line-taxes.js";
import type { OrderDeps, PendingSubmission } from "./ports.js";

export interface SubmitOrder {
  readonly request: RequestRef;
  readonly channel: Channel;
  readonly channelOrderId: string;
  readonly channelId: string;
  readonly customer: OrderCustomer;
  readonly lines: readonly SubmitOrderLine[];
  readonly shipTo: PostalAddress | undefined;
  readonly orderDiscount: Money | undefined;
  readonly shippingCharge: Money | undefined;
  readonly currencyCode: string;
  readonly placeTime: Date | undefined;
}

/** The order id of a channel's order: the same channel order id is always the same order. */
export function orderIdOf(channel: Channel, channelId: string, channelOrderId: string): string {
  return `ord-${createHash("sha256").update(`${channel}|${channelId}|${channelOrderId}`).digest("hex").slice(0, 24)}`;
}

/** Prices the submission into a PENDING order (tax per line where it is handed over). */
export async function receivedOrder(deps: OrderDeps, command: SubmitOrder, orderId: string): Promise<Order> {
  const currency = command.currencyCode;
  const placed = command.placeTime ?? deps.clock.now();
  const { priced, taxHoldReason } = await priceWithTax(deps, command, placed);
  const m = (v: bigint) => money(currency, v);
  return create(OrderSchema, {
    orderId,
    channel: command.channel,
    channelOrderId: command.channelOrderId,
    channelId: command.channelId,
    customerId: command.customer.customerId,
    status: OrderStatus.PENDING,
    lines: command.lines.map((line, i) => {
      const p = priced.lines[i];
      return {
        lineId: line.lineId,
        sku: line.sku,
        quantity: line.quantity,
        unitPrice: m(units(line.unitPrice)),
        discount: m(p?.discount ?? 0n),
        tax: m(p?.tax ?? 0n),
        ...(line.chargedTax && p?.computedTax !== undefined ? { computedTax: m(p.computedTax) } : {}),
        lineTotal: m(p?.total ?? 0n),
        taxCode: line.taxCode || defaultTaxCode,
        fulfillmentType: line.fulfillmentType || FulfillmentType.SHIP,
        fulfillmentLocationId: line.fulfillmentLocationId,
        status: LineStatus.PENDING,
      };
    }),
    ...(command.shipTo ? { shipTo: command.shipTo } : {}),
    subtotal: m(priced.subtotal),
    discountTotal: m(priced.discountTotal),
    shippingTotal: m(priced.shipping),
    taxTotal: m(priced.taxTotal),
    grandTotal: m(priced.grandTotal),
    capturedTotal: m(0n),
    refundedTotal: m(0n),
    chargebackTotal: m(0n),
    chargebackReversedTotal: m(0n),
    // The moment its tax was priced at.
    createTime: timestampFromDate(placed),
    taxHoldReason,
  });
}

/**
 * Takes in an order and runs its acceptance saga. The order is stored PENDING first (with what the saga
 * needs to finish after a crash), then the customer is resolved and the stock reserved; it ends
 * ACCEPTED, or REJECTED with every reason, in which case the reservations already made are released
 * (inventory acts on the rejection event). A repeat of the channel's order id returns the same order.
 */
export async function submitOrder(deps: OrderDeps, command: SubmitOrder): Promise<Order> {
  const orderId = orderIdOf(command.channel, command.channelId, command.channelOrderId);
  const existing = await deps.streams.load(orderId);
  if (existing) return existing.status === OrderStatus.PENDING ? runAcceptance(deps, orderId) : existing;
  const pending = await receivedOrder(deps, command, orderId);
  const saga = { orderId, customer: command.customer, receivedAt: deps.clock.now() };
  await deps.sagas.start(saga);
  let received: Order | undefined;
  try {
    received = await deps.streams.append(
      orderId,
      undefined,
      [create(OrderReceivedSchema, { order: pending })],
      {
        request: {
          key: requestKey("order.SubmitOrder", command.request.id),
          fingerprint: command.request.fingerprint,
        },
      },
    );
    await deps.views.save(received);
  } catch (error) {
    if (!(error instanceof ConcurrencyConflict)) throw error; // the same order submitted at once: one wins
  }
  // The order just written and its saga are what the acceptance would read back; the one that lost
  // the race above reads them.
  return runAcceptance(deps, orderId, received && { order: received, saga });
}

/**
 * Finishes the saga of a PENDING order: each step is idempotent (the customer upsert and the
 * reservation take request ids derived from the order id), so running it again after a crash resumes
 * where it stopped. A peer that cannot be reached leaves the order PENDING for the sweep to retry.
 */
export function runAcceptance(
  deps: OrderDeps,
  orderId: string,
  written?: { readonly order: Order; readonly saga: PendingSubmission },
): Promise<Order> {
  return deps.lock(orderId, () => accept(deps, orderId, written));
}

/**
 * `written`: the order and saga this process has just stored, so not read back. Should another
 * writer have moved the order on meanwhile, the decision's append conflicts and its outcome stands.
 */
async function accept(
  deps: OrderDeps,
  orderId: string,
  written?: { readonly order: Order; readonly saga: PendingSubmission },
): Promise<Order> {
  const order = written?.order ?? (await deps.streams.load(orderId));
  if (!order || order.status !== OrderStatus.PENDING) {
    await deps.sagas.finish(orderId);
    if (!order) throw new Error(`order ${orderId} has no stream`);
    return order;
  }
  // Held for a person to review its tax: it waits here until ReleaseTaxHold.
  if (order.taxHoldReason) return order;
  const saga = written?.saga ?? (await deps.sagas.get(orderId));
  const reasons: string[] = [];
  let customerId = order.customerId;
  if (saga) {
    const customer = await deps.customers.resolve(orderId, saga.customer, order.shipTo);
    if ("rejected" in customer) reasons.push(customer.rejected);
    else customerId = customer.customerId;
  } else if (!customerId) {
    reasons.push("customer unknown: the submission's customer was lost");
  }
  let reservationIds: string[] = [];
  // What was handed over at a till has left already: nothing to hold for it.
  const toHold = order.lines.filter((l) => !isCarryOut(l));
  if (reasons.length === 0 && toHold.length > 0) {
    const stock = await deps.stock.reserve(
      orderId,
      order.channel,
      order.channelId,
      toHold.map((l) => ({
        lineId: l.lineId,
        sku: l.sku,
        quantity: l.quantity,
        locationId: l.fulfillmentLocationId,
        pickup: l.fulfillmentType === FulfillmentType.PICKUP_IN_STORE,
        fromStore: l.fulfillmentType === FulfillmentType.SHIP_FROM_STORE,
      })),
    );
    if ("refused" in stock) reasons.push(stockRefusalReason(stock.refused));
    else reservationIds = stock.reservationIds;
  }
  const decided = decideAcceptance(order, { customerId, reservationIds, reasons });
  // Lines handed over at a till are collected in the same commit as the acceptance.
  const handedOver =
    decided.$typeName === "retail.order.v1.OrderAccepted" && decided.order
      ? handOverAtTill(decided.order)
      : [];
  try {
    const after = await deps.streams.append(orderId, order, [decided, ...handedOver]);
    await deps.views.save(after);
    await deps.sagas.finish(orderId);
    return after;
  } catch (error) {
    // The same saga finished by another call (a repeated submission, the sweep): its outcome stands.
    const current = error instanceof ConcurrencyConflict ? await deps.streams.load(orderId) : undefined;
    if (current && current.status !== OrderStatus.PENDING) return current;
    throw error;
  }
}

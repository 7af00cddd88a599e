// A store's batch of till transactions (end of day, or trickled through the day) as the mesh's calls.
// The format is the mesh's own (no standard one is shared by POS vendors): JSON, amounts as decimal
// strings in the batch's currency, converted exactly.
//   { "storeId": "ST-1", "currency": "USD", "transactions": [
//       { "transactionId": "T1001", "type": "sale", "occurredAt": "2026-11-27T10:15:00Z",
//         "loyaltyNumber": "L-123",                                   (optional)
//         "lines": [{ "lineId": "1", "sku": "AB-1", "quantity": 2, "unitPrice": "10.00",
//                     "discount": "0.00", "tax": "1.78" }],
//         "tenders": [{ "type": "cash" | "card" | "gift_card", "amount": "21.78", "reference": "…" }] },
//       { "transactionId": "T1002", "type": "return", "originalTransactionId": "T1001",
//         "lines": [{ "lineId": "1", "quantity": 1, "restock": true }],
//         "tenders": [{ "type": "cash", "amount": "10.89" }] } ] }
// A sale is an order on the POS channel whose lines were handed over at the till (CARRY_OUT at the
// store), paid by its tenders (one capture each); a return is a return of the original sale's lines
// at the store (restocked or damaged) and a refund per tender. Every key comes from the store and the
// transaction id, so a resent batch changes nothing. Each transaction is mapped on its own: a
// malformed one is reported with its index and field, and the others go on.
import { create } from "@bufbuild/protobuf";
import { type Timestamp, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import {
  FulfillmentType,
  type PaymentEvent,
  PaymentEventSchema,
  PaymentEventType,
  PaymentOutcome,
  ReturnCondition,
  type ReturnLine,
  ReturnLineSchema,
} from "@retail/contracts/retail/order/v1/order_pb";
import {
  type SubmitOrderRequest,
  SubmitOrderRequestSchema,
} from "@retail/contracts/retail/order/v1/order_service_pb";
import type { FieldViolation } from "@retail/platform/rpc";
import { decimalAmount, type Json, list, text } from "./json-fields.js";

export interface PosStore {
  readonly storeId: string;
  /** The store's location in the mesh (where stock leaves and comes back). */
  readonly locationId: string;
  /** The POS channel's id in the mesh ("pos"), as its channel rule names it. */
  readonly channelId: string;
  /** The customer source system of the store's loyalty numbers. */
  readonly sourceSystem: string;
}

export type PosTransaction =
  | {
      readonly kind: "sale";
      readonly transactionId: string;
      readonly order: SubmitOrderRequest;
      readonly payments: PaymentEvent[];
    }
  | {
      readonly kind: "return";
      readonly transactionId: string;
      readonly originalTransactionId: string;
      readonly returnId: string;
      readonly lines: ReturnLine[];
      readonly refunds: PaymentEvent[];
    };

/** One transaction of the batch: mapped, or refused with what is wrong. */
export type PosEntry =
  | { readonly ok: true; readonly transaction: PosTransaction }
  | { readonly ok: false; readonly transactionId: string; readonly violations: FieldViolation[] };

const tenderTypes = new Set(["cash", "card", "gift_card"]);

/** The channel order id of a store's sale: the store and the till's transaction id. */
export const posOrderId = (storeId: string, transactionId: string) => `${storeId}:${transactionId}`;

function time(value: unknown): Timestamp | undefined {
  const date = new Date(text(value) ?? "");
  return Number.isNaN(date.getTime()) ? undefined : timestampFromDate(date);
}

const positive = (value: unknown) =>
  typeof value === "number" && Number.isSafeInteger(value) && value > 0 ? value : 0;

function tendersOf(
  tx: Json,
  at: string,
  kind: PaymentEventType,
  store: PosStore,
  currency: string,
  transactionId: string,
  violations: FieldViolation[],
): { events: PaymentEvent[]; total: bigint } {
  const tenders = list(tx.tenders);
  if (tenders.length === 0)
    violations.push({ field: `${at}.tenders`, description: "is required: how it was paid" });
  let total = 0n;
  const events = tenders.map((tender, i) => {
    const type = text(tender.type) ?? "";
    if (!tenderTypes.has(type))
      violations.push({ field: `${at}.tenders[${i}].type`, description: "must be cash, card or gift_card" });
    const amount = decimalAmount(tender.amount, currency, `${at}.tenders[${i}].amount`, violations);
    if (amount <= 0n)
      violations.push({ field: `${at}.tenders[${i}].amount`, description: "must be positive" });
    total += amount;
    const occurTime = time(tx.occurredAt);
    return create(PaymentEventSchema, {
      paymentEventId: `pos:${store.storeId}:${transactionId}:tender:${i}`,
      type: kind,
      outcome: PaymentOutcome.APPROVED,
      amount: { currencyCode: currency, minorUnits: amount },
      paymentMethod: type,
      provider: "pos",
      providerReference: text(tender.reference) ?? "",
      ...(occurTime && { occurTime }),
    });
  });
  return { events, total };
}

function sale(tx: Json, at: string, store: PosStore, currency: string, transactionId: string): PosEntry {
  const violations: FieldViolation[] = [];
  const lines = list(tx.lines);
  if (lines.length === 0)
    violations.push({ field: `${at}.lines`, description: "is required: what was sold" });
  let total = 0n;
  const orderLines = lines.map((line, i) => {
    const where = `${at}.lines[${i}]`;
    const lineId = text(line.lineId) ?? String(i + 1);
    const sku = text(line.sku);
    if (!sku) violations.push({ field: `${where}.sku`, description: "is required" });
    const quantity = positive(line.quantity);
    if (!quantity)
      violations.push({ field: `${where}.quantity`, description: "must be a positive whole number" });
    const unitPrice = decimalAmount(line.unitPrice, currency, `${where}.unitPrice`, violations);
    const discount =
      line.discount === undefined
        ? 0n
        : decimalAmount(line.discount, currency, `${where}.discount`, violations);
    const tax = line.tax === undefined ? 0n : decimalAmount(line.tax, currency, `${where}.tax`, violations);
    total += unitPrice * BigInt(quantity) - discount + tax;
    return {
      lineId,
      sku: sku ?? "",
      quantity: BigInt(quantity),
      unitPrice: { currencyCode: currency, minorUnits: unitPrice },
      discount: { currencyCode: currency, minorUnits: discount },
      chargedTax: { currencyCode: currency, minorUnits: tax },
      fulfillmentType: FulfillmentType.CARRY_OUT,
      fulfillmentLocationId: store.locationId,
    };
  });
  const payments = tendersOf(tx, at, PaymentEventType.CAPTURE, store, currency, transactionId, violations);
  if (violations.length === 0 && payments.total !== total)
    violations.push({
      field: `${at}.tenders`,
      description: `must add up to the sale's total ${total} (minor units), not ${payments.total}`,
    });
  if (violations.length > 0) return { ok: false, transactionId, violations };
  const loyaltyNumber = text(tx.loyaltyNumber);
  const placeTime = time(tx.occurredAt);
  const order = create(SubmitOrderRequestSchema, {
    requestId: `pos:${store.storeId}:${transactionId}`,
    channel: Channel.POS,
    channelId: store.channelId,
    channelOrderId: posOrderId(store.storeId, transactionId),
    currencyCode: currency,
    // A loyalty member is who they are; anyone else is the store's walk-in customer.
    customer: loyaltyNumber
      ? { sourceSystem: store.sourceSystem, sourceId: `loyalty-${loyaltyNumber}`, loyaltyNumber }
      : {
          sourceSystem: store.sourceSystem,
          sourceId: `walk-in-${store.storeId}`,
          givenName: "Walk-in",
          familyName: store.storeId,
        },
    lines: orderLines,
    ...(placeTime && { placeTime }),
  });
  return { ok: true, transaction: { kind: "sale", transactionId, order, payments: payments.events } };
}

function refund(tx: Json, at: string, store: PosStore, currency: string, transactionId: string): PosEntry {
  const violations: FieldViolation[] = [];
  const originalTransactionId = text(tx.originalTransactionId);
  if (!originalTransactionId)
    violations.push({
      field: `${at}.originalTransactionId`,
      description: "is required: the sale returned to",
    });
  const lines = list(tx.lines).map((line, i) => {
    const where = `${at}.lines[${i}]`;
    const lineId = text(line.lineId);
    if (!lineId) violations.push({ field: `${where}.lineId`, description: "is required: the sale's line" });
    const quantity = positive(line.quantity);
    if (!quantity)
      violations.push({ field: `${where}.quantity`, description: "must be a positive whole number" });
    return create(ReturnLineSchema, {
      lineId: lineId ?? "",
      quantity: BigInt(quantity),
      condition: line.restock === false ? ReturnCondition.DAMAGED : ReturnCondition.RESTOCK,
      reason: text(line.reason) ?? "",
    });
  });
  if (lines.length === 0)
    violations.push({ field: `${at}.lines`, description: "is required: what came back" });
  const refunds = tendersOf(tx, at, PaymentEventType.REFUND, store, currency, transactionId, violations);
  if (violations.length > 0 || !originalTransactionId) return { ok: false, transactionId, violations };
  return {
    ok: true,
    transaction: {
      kind: "return",
      transactionId,
      originalTransactionId,
      returnId: `pos:${store.storeId}:${transactionId}`,
      lines,
      refunds: refunds.events,
    },
  };
}

/** The batch's transactions, each mapped or refused on its own; the batch's own fields checked first. */
export function posBatchToTransactions(
  batch: Json,
  stores: readonly PosStore[],
): { store: PosStore; entries: PosEntry[] } | { violations: FieldViolation[] } {
  const storeId = text(batch.storeId);
  const store = stores.find((s) => s.storeId === storeId);
  const currency = text(batch.currency) ?? "";
  const violations: FieldViolation[] = [];
  if (!store)
    violations.push({
      field: "storeId",
      description: `must be a store of this client (${storeId ?? "none"} is not)`,
    });
  if (!/^[A-Z]{3}$/.test(currency))
    violations.push({ field: "currency", description: "must be an ISO 4217 code such as USD" });
  const transactions = list(batch.transactions);
  if (transactions.length === 0) violations.push({ field: "transactions", description: "is required" });
  if (violations.length > 0 || !store) return { violations };
  const seen = new Set<string>();
  const entries = transactions.map((tx, i): PosEntry => {
    const at = `transactions[${i}]`;
    const transactionId = text(tx.transactionId) ?? "";
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(transactionId))
      return {
        ok: false,
        transactionId,
        violations: [
          { field: `${at}.transactionId`, description: "must be 1-64 letters, digits, '.', '_' or '-'" },
        ],
      };
    if (seen.has(transactionId))
      return {
        ok: false,
        transactionId,
        violations: [
          { field: `${at}.transactionId`, description: "repeats an earlier transaction of the batch" },
        ],
      };
    seen.add(transactionId);
    const type = text(tx.type);
    if (type === "sale") return sale(tx, at, store, currency, transactionId);
    if (type === "return") return refund(tx, at, store, currency, transactionId);
    return {
      ok: false,
      transactionId,
      violations: [{ field: `${at}.type`, description: "must be sale or return" }],
    };
  });
  return { store, entries };
}

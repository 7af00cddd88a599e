import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import {
  FulfillmentType,
  PaymentEventType,
  ReturnCondition,
} from "@retail/contracts/retail/order/v1/order_pb";
import { describe, expect, it } from "vitest";
import { type PosEntry, posBatchToTransactions } from "./pos-batch.js";

const store = { storeId: "ST-1", locationId: "LOC-ST1", channelId: "pos", sourceSystem: "pos" };
const sale = {
  transactionId: "T1001",
  type: "sale",
  occurredAt: "2026-11-27T10:15:00Z",
  lines: [{ lineId: "1", sku: "AB-1", quantity: 2, unitPrice: "10.00", discount: "1.00", tax: "1.69" }],
  tenders: [
    { type: "cash", amount: "10.00" },
    { type: "card", amount: "10.69", reference: "auth-77" },
  ],
};

const entries = (batch: Record<string, unknown>): PosEntry[] => {
  const mapped = posBatchToTransactions(batch, [store]);
  if ("violations" in mapped) throw new Error(JSON.stringify(mapped.violations));
  return mapped.entries;
};

describe("a store's till batch", () => {
  it("makes a sale an order handed over at the till, paid by one capture per tender, keyed by store and transaction", () => {
    const [entry] = entries({ storeId: "ST-1", currency: "USD", transactions: [sale] });
    if (!entry?.ok || entry.transaction.kind !== "sale") throw new Error("not a sale");
    const { order, payments } = entry.transaction;
    expect(order).toMatchObject({
      requestId: "pos:ST-1:T1001",
      channel: Channel.POS,
      channelId: "pos",
      channelOrderId: "ST-1:T1001",
      customer: { sourceSystem: "pos", sourceId: "walk-in-ST-1" },
      lines: [
        {
          sku: "AB-1",
          quantity: 2n,
          unitPrice: { minorUnits: 1000n },
          discount: { minorUnits: 100n },
          chargedTax: { minorUnits: 169n },
          fulfillmentType: FulfillmentType.CARRY_OUT,
          fulfillmentLocationId: "LOC-ST1",
        },
      ],
    });
    expect(
      payments.map((p) => [
        p.paymentEventId,
        p.type,
        p.paymentMethod,
        p.amount?.minorUnits,
        p.providerReference,
      ]),
    ).toEqual([
      ["pos:ST-1:T1001:tender:0", PaymentEventType.CAPTURE, "cash", 1000n, ""],
      ["pos:ST-1:T1001:tender:1", PaymentEventType.CAPTURE, "card", 1069n, "auth-77"],
    ]);
  });

  it("makes a return the original sale's return at the store and a refund per tender; a loyalty member is themselves", () => {
    const [withLoyalty, ret] = entries({
      storeId: "ST-1",
      currency: "USD",
      transactions: [
        { ...sale, loyaltyNumber: "L-9" },
        {
          transactionId: "R1",
          type: "return",
          originalTransactionId: "T1001",
          lines: [
            { lineId: "1", quantity: 1, restock: true },
            { lineId: "1", quantity: 1, restock: false, reason: "broken" },
          ],
          tenders: [{ type: "cash", amount: "9.85" }],
        },
      ],
    });
    if (!withLoyalty?.ok || withLoyalty.transaction.kind !== "sale") throw new Error("not a sale");
    expect(withLoyalty.transaction.order.customer).toMatchObject({
      sourceId: "loyalty-L-9",
      loyaltyNumber: "L-9",
    });
    if (!ret?.ok || ret.transaction.kind !== "return") throw new Error("not a return");
    expect(ret.transaction).toMatchObject({ originalTransactionId: "T1001", returnId: "pos:ST-1:R1" });
    expect(ret.transaction.lines.map((l) => [l.lineId, l.quantity, l.condition])).toEqual([
      ["1", 1n, ReturnCondition.RESTOCK],
      ["1", 1n, ReturnCondition.DAMAGED],
    ]);
    expect(ret.transaction.refunds.map((r) => [r.type, r.amount?.minorUnits])).toEqual([
      [PaymentEventType.REFUND, 985n],
    ]);
  });

  it("refuses a malformed transaction with its index and field, and keeps the others", () => {
    const [bad, good, repeat, unknown] = entries({
      storeId: "ST-1",
      currency: "USD",
      transactions: [
        { ...sale, transactionId: "T2", tenders: [{ type: "cheque", amount: "5.00" }] },
        sale,
        sale,
        { transactionId: "T9", type: "void" },
      ],
    });
    expect(bad?.ok ? [] : bad?.violations).toEqual([
      { field: "transactions[0].tenders[0].type", description: "must be cash, card or gift_card" },
    ]);
    expect(good?.ok).toBe(true);
    expect(repeat?.ok ? [] : repeat?.violations.map((v) => v.field)).toEqual([
      "transactions[2].transactionId",
    ]);
    expect(unknown?.ok ? [] : unknown?.violations.map((v) => v.field)).toEqual(["transactions[3].type"]);
    const short = entries({
      storeId: "ST-1",
      currency: "USD",
      transactions: [{ ...sale, tenders: [{ type: "cash", amount: "1.00" }] }],
    });
    expect(short[0]?.ok ? [] : short[0]?.violations.map((v) => v.description)).toEqual([
      "must add up to the sale's total 2069 (minor units), not 100",
    ]);
  });

  it("refuses a batch of a store the client does not send for, or without a currency", () => {
    expect(
      posBatchToTransactions({ storeId: "ST-9", currency: "usd", transactions: [sale] }, [store]),
    ).toEqual({
      violations: [
        { field: "storeId", description: "must be a store of this client (ST-9 is not)" },
        { field: "currency", description: "must be an ISO 4217 code such as USD" },
      ],
    });
  });
});

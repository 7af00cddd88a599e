// The ledger does not depend on the order events arrive in, nor on how many finance instances handle
// them: an order whose events come backwards, spread over two instances, posts the same balances as
// one whose events come in order.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import { EntrySide, type JournalEntry } from "@retail/contracts/retail/finance/v1/finance_pb";
import {
  OrderAcceptedSchema,
  PaymentCapturedSchema,
  RefundBasis,
  RefundIssuedSchema,
  ShipmentDispatchedSchema,
} from "@retail/contracts/retail/order/v1/order_events_pb";
import { PaymentEventType, PaymentOutcome } from "@retail/contracts/retail/order/v1/order_pb";
import { uniqueName, until } from "@retail/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FinanceHarness, startFinance } from "./harness.js";

let first: FinanceHarness;
let second: FinanceHarness;
beforeAll(async () => {
  first = await startFinance("arrival");
  second = await startFinance("arrival", {}, { database: first.database, exchange: first.exchange });
}, 60_000);
afterAll(async () => {
  await second?.stop();
  await first?.stop();
});

const usd = (minorUnits: bigint) => ({ currencyCode: "USD", minorUnits });
const at = new Date("2026-10-12T09:00:00Z");

/** The events of one order's life: accepted, paid, shipped, then part refunded after delivery. */
function life(orderId: string, basis: RefundBasis) {
  const payment = (type: PaymentEventType, amount: bigint) => ({
    paymentEventId: uniqueName("pe"),
    type,
    outcome: PaymentOutcome.APPROVED,
    amount: usd(amount),
    paymentMethod: "card",
    provider: "stripe",
    providerReference: `ch-${orderId}`,
    occurTime: timestampFromDate(at),
  });
  const line = {
    lineId: "1",
    sku: "A",
    quantity: 2n,
    netAmount: usd(2_000n),
    discount: usd(0n),
    tax: usd(178n),
    taxCode: "standard",
  };
  return [
    [
      OrderAcceptedSchema,
      create(OrderAcceptedSchema, {
        order: { orderId, channel: Channel.WEB, grandTotal: usd(2_678n), shippingTotal: usd(500n) },
      }),
    ],
    [
      PaymentCapturedSchema,
      create(PaymentCapturedSchema, {
        orderId,
        channel: Channel.WEB,
        paymentEvent: payment(PaymentEventType.CAPTURE, 2_678n),
      }),
    ],
    [
      ShipmentDispatchedSchema,
      create(ShipmentDispatchedSchema, {
        orderId,
        channel: Channel.WEB,
        shipment: { shipmentId: "S1", lines: [{ lineId: "1", quantity: 2n }] },
        lines: [line],
      }),
    ],
    [
      RefundIssuedSchema,
      create(RefundIssuedSchema, {
        orderId,
        channel: Channel.WEB,
        paymentEvent: payment(PaymentEventType.REFUND, 1_089n),
        taxRefunded: usd(89n),
        basis,
      }),
    ],
  ] as const;
}

/** Net debit per account over an order's entries. */
async function balancesOf(harness: FinanceHarness, orderId: string, entries: number) {
  const found = await until(
    async () => {
      const { entries: listed } = await harness.client.listJournalEntries({ orderId, pageSize: 100 });
      expect(listed).toHaveLength(entries);
      return listed;
    },
    { timeout: 15_000, interval: 100 },
  );
  const net = new Map<string, bigint>();
  for (const e of found as JournalEntry[])
    for (const l of e.lines) {
      const amount = l.amount?.minorUnits ?? 0n;
      net.set(
        l.accountCode,
        (net.get(l.accountCode) ?? 0n) + (l.side === EntrySide.DEBIT ? amount : -amount),
      );
    }
  return Object.fromEntries([...net].filter(([, v]) => v !== 0n).sort());
}

describe("arrival order", () => {
  it("posts an order whose events arrive backwards, over two instances, as if they came in order", async () => {
    for (const [schema, message] of life("o-in-order", RefundBasis.DELIVERED))
      await first.emit(schema, message);
    const inOrder = await balancesOf(first, "o-in-order", 4);
    for (const [schema, message] of [...life("o-backwards", RefundBasis.DELIVERED)].reverse()) {
      await first.emit(schema, message); // the two instances share the queue: the broker spreads them
    }
    expect(await balancesOf(second, "o-backwards", 4)).toEqual(inOrder);
    // The refund of delivered goods went against revenue and tax, not against the emptied deferral.
    expect(inOrder).toMatchObject({ "4060": 1_000n, "2200": -178n + 89n });
    expect(inOrder["2100"]).toBeUndefined();
  });
});

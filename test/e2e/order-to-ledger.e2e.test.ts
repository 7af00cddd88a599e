// One web order through the real services: customer-identity and inventory as processes, order and
// finance-posting in this process, all on one events exchange. What the order service publishes is
// what finance posts, to the minor unit.
import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import { EntrySide, type JournalEntry } from "@retail/contracts/retail/finance/v1/finance_pb";
import {
  FulfillmentType,
  OrderStatus,
  PaymentEventType,
  PaymentOutcome,
} from "@retail/contracts/retail/order/v1/order_pb";
import { uniqueName, until } from "@retail/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FinanceHarness, startFinance } from "../../services/finance-posting/test/harness.js";
import { type Mesh, startMesh } from "../../services/order/test/harness.js";

let mesh: Mesh;
let finance: FinanceHarness;

beforeAll(async () => {
  mesh = await startMesh("e2e");
  finance = await startFinance("e2e", {}, { exchange: mesh.env.EVENTS_EXCHANGE ?? "" });
}, 120_000);
afterAll(async () => {
  await finance?.stop();
  await mesh?.stopAll();
}, 60_000);

const usd = (minorUnits: bigint) => ({ currencyCode: "USD", minorUnits });

/** Debits minus credits of an account over entries. */
function net(entries: readonly JournalEntry[], account: string): bigint {
  return entries
    .flatMap((e) => e.lines)
    .filter((l) => l.accountCode === account)
    .reduce((s, l) => s + (l.side === EntrySide.DEBIT ? 1n : -1n) * (l.amount?.minorUnits ?? 0n), 0n);
}

describe("an order's money reaches the ledger", () => {
  it("posts capture, two shipments, shipping and a partial refund exactly as the order priced them", async () => {
    const { client } = await mesh.startOrder();
    const sku = uniqueName("SKU");
    await mesh.receive(sku, "DC-1", 10);
    const n = uniqueName("e2e");
    const { order } = await client.submitOrder({
      requestId: n,
      channel: Channel.WEB,
      channelId: "web",
      channelOrderId: n,
      currencyCode: "USD",
      customer: {
        sourceSystem: "shopify-web",
        sourceId: `acct-${n}`,
        email: `${n}@example.com`,
        familyName: "Ledger",
      },
      shipTo: { lines: ["1 Main St"], administrativeArea: "NY", regionCode: "US", postalCode: "10001" },
      lines: [
        { lineId: "1", sku, quantity: 2n, unitPrice: usd(2_500n), fulfillmentType: FulfillmentType.SHIP },
        {
          lineId: "2",
          sku,
          quantity: 1n,
          unitPrice: usd(999n),
          discount: usd(100n),
          fulfillmentType: FulfillmentType.SHIP,
        },
      ],
      orderDiscount: usd(300n),
      shippingCharge: usd(595n),
    });
    expect(order?.status).toBe(OrderStatus.ACCEPTED);
    const orderId = order?.orderId ?? "";
    const total = order?.grandTotal?.minorUnits ?? 0n;
    await client.recordPaymentEvent({
      orderId,
      paymentEvent: {
        paymentEventId: `${n}-cap`,
        type: PaymentEventType.CAPTURE,
        outcome: PaymentOutcome.APPROVED,
        amount: usd(total),
        paymentMethod: "card",
        provider: "stripe",
        providerReference: `ch_${n}`,
      },
    });
    for (const [id, lines] of [
      ["S1", [{ lineId: "1", quantity: 1n }]],
      [
        "S2",
        [
          { lineId: "1", quantity: 1n },
          { lineId: "2", quantity: 1n },
        ],
      ],
    ] as const) {
      await client.recordShipment({
        requestId: `${n}-${id}`,
        orderId,
        shipment: { shipmentId: id, carrier: "UPS", trackingNumber: id, lines: [...lines] },
      });
    }
    const line2 = order?.lines[1]?.lineTotal?.minorUnits ?? 0n;
    await client.recordPaymentEvent({
      orderId,
      paymentEvent: {
        paymentEventId: `${n}-ref`,
        type: PaymentEventType.REFUND,
        outcome: PaymentOutcome.APPROVED,
        amount: usd(line2),
        lineIds: ["2"],
        provider: "stripe",
        providerReference: `re_${n}`,
      },
    });

    const entries = await until(
      async () => {
        const { entries } = await finance.client.listJournalEntries({ orderId, pageSize: 100 });
        expect(entries).toHaveLength(5); // capture, two deliveries, shipping, refund
        return entries;
      },
      { timeout: 20_000, interval: 200 },
    );
    expect(net(entries, "1200")).toBe(total - line2);
    expect(-net(entries, "4000")).toBe(order?.subtotal?.minorUnits);
    expect(net(entries, "4050")).toBe(order?.discountTotal?.minorUnits);
    expect(-net(entries, "4100")).toBe(595n);
    const line2Tax = order?.lines[1]?.tax?.minorUnits ?? 0n;
    expect(-net(entries, "2200")).toBe((order?.taxTotal?.minorUnits ?? 0n) - line2Tax);
    expect(net(entries, "4060")).toBe(line2 - line2Tax);
    expect(net(entries, "2100")).toBe(0n); // everything taken was delivered
    for (const e of entries) {
      const debit = e.lines
        .filter((l) => l.side === EntrySide.DEBIT)
        .reduce((s, l) => s + (l.amount?.minorUnits ?? 0n), 0n);
      const credit = e.lines
        .filter((l) => l.side === EntrySide.CREDIT)
        .reduce((s, l) => s + (l.amount?.minorUnits ?? 0n), 0n);
      expect(debit).toBe(credit);
    }
  }, 90_000);
});

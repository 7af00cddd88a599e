import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { ErrorInfoSchema } from "@retail/contracts/google/rpc/error_details_pb";
import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import { EntrySide, type JournalEntry } from "@retail/contracts/retail/finance/v1/finance_pb";
import {
  ChargebackOpenedSchema,
  OrderAcceptedSchema,
  PaymentCapturedSchema,
  RefundBasis,
  RefundIssuedSchema,
  ShipmentDispatchedSchema,
} from "@retail/contracts/retail/order/v1/order_events_pb";
import { PaymentEventType, PaymentOutcome } from "@retail/contracts/retail/order/v1/order_pb";
import type { LineAmountsSchema } from "@retail/contracts/retail/order/v1/order_service_pb";
import { rejection, uniqueName, until } from "@retail/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FinanceHarness, startFinance } from "./harness.js";

let finance: FinanceHarness;

beforeAll(async () => {
  finance = await startFinance("posting");
}, 60_000);
afterAll(() => finance?.stop());

const usd = (minorUnits: bigint) => ({ currencyCode: "USD", minorUnits });
const lines = (e: JournalEntry) =>
  e.lines.map((l) => `${l.side === EntrySide.DEBIT ? "Dr" : "Cr"} ${l.accountCode} ${l.amount?.minorUnits}`);
async function entriesOf(orderId: string, count: number): Promise<JournalEntry[]> {
  return until(
    async () => {
      const { entries } = await finance.client.listJournalEntries({ orderId, pageSize: 100 });
      expect(entries).toHaveLength(count);
      return entries;
    },
    { timeout: 15_000, interval: 100 },
  );
}
const byType = (entries: JournalEntry[], type: string) =>
  entries.filter((e) => e.source?.eventType.endsWith(type));
async function balance(account: string, periodId = ""): Promise<bigint> {
  const { balances } = await finance.client.getAccountBalance({ accountCode: account, periodId });
  return balances.find((b) => b.currencyCode === "USD")?.minorUnits ?? 0n;
}
function captured(
  orderId: string,
  amount: bigint,
  extra: { method?: string; reference?: string; channel?: Channel; at?: Date } = {},
) {
  return create(PaymentCapturedSchema, {
    orderId,
    channel: extra.channel ?? Channel.WEB,
    paymentEvent: {
      paymentEventId: uniqueName("ch"),
      type: PaymentEventType.CAPTURE,
      outcome: PaymentOutcome.APPROVED,
      amount: usd(amount),
      paymentMethod: extra.method ?? "card",
      provider: "stripe",
      providerReference: extra.reference ?? uniqueName("ch"),
      occurTime: timestampFromDate(extra.at ?? new Date()),
    },
  });
}
/** A refund of the web order issued by the order service (lines and basis as it worked them out). */
function refunded(
  orderId: string,
  amount: bigint,
  extra: {
    tax?: bigint;
    lineIds?: string[];
    lines?: MessageInitShape<typeof LineAmountsSchema>[];
    basis?: RefundBasis;
  } = {},
) {
  return create(RefundIssuedSchema, {
    orderId,
    channel: Channel.WEB,
    paymentEvent: {
      paymentEventId: uniqueName("re"),
      type: PaymentEventType.REFUND,
      outcome: PaymentOutcome.APPROVED,
      amount: usd(amount),
      provider: "stripe",
      providerReference: uniqueName("re"),
      lineIds: extra.lineIds ?? [],
    },
    lines: extra.lines ?? [],
    taxRefunded: usd(extra.tax ?? 0n),
    basis: extra.basis ?? RefundBasis.UNSPECIFIED,
  });
}
function shipped(
  orderId: string,
  line: { sku: string; net: bigint; discount: bigint; tax: bigint; taxCode?: string },
) {
  return create(ShipmentDispatchedSchema, {
    orderId,
    channel: Channel.WEB,
    shipment: { shipmentId: uniqueName("s"), lines: [{ lineId: "1", quantity: 1n }] },
    lines: [
      {
        lineId: "1",
        sku: line.sku,
        quantity: 1n,
        netAmount: usd(line.net),
        discount: usd(line.discount),
        tax: usd(line.tax),
        taxCode: line.taxCode ?? "standard",
      },
    ],
  });
}

describe("posting order events", () => {
  it("defers money taken before delivery and recognises revenue, discount, tax and shipping on shipment", async () => {
    const orderId = uniqueName("o");
    await finance.emit(
      OrderAcceptedSchema,
      create(OrderAcceptedSchema, {
        order: { orderId, channel: Channel.WEB, shippingTotal: usd(500n), grandTotal: usd(11_388n) },
      }),
    );
    await finance.emit(PaymentCapturedSchema, captured(orderId, 11_388n));
    const [capture] = await entriesOf(orderId, 1);
    expect(capture && lines(capture)).toEqual(["Dr 1200 11388", "Cr 2100 11388"]);
    // Its source named as the broker and webhooks name it, beside the protobuf type.
    expect([capture?.source?.routingKey, capture?.source?.eventType]).toEqual([
      "order.payment_captured",
      "retail.order.v1.PaymentCaptured",
    ]);
    await finance.emit(
      ShipmentDispatchedSchema,
      shipped(orderId, { sku: "A", net: 10_000n, discount: 1_000n, tax: 888n }),
    );
    const entries = await entriesOf(orderId, 3);
    const delivery = byType(entries, "ShipmentDispatched").find((e) => e.lines.length === 4);
    expect(delivery && lines(delivery)).toEqual([
      "Dr 2100 10888",
      "Dr 4050 1000",
      "Cr 4000 11000",
      "Cr 2200 888",
    ]);
    const shipping = entries.find((e) => e.lines.some((l) => l.accountCode === "4100"));
    expect(shipping && lines(shipping)).toEqual(["Dr 2100 500", "Cr 4100 500"]);
    for (const e of entries) expect(e.ruleSetVersion).toBe("2026-11.1");
    // Everything taken was delivered: nothing of this order is left deferred.
    const deferred = entries.flatMap((e) => e.lines).filter((l) => l.accountCode === "2100");
    expect(
      deferred.reduce(
        (s, l) => s + (l.side === EntrySide.DEBIT ? 1n : -1n) * (l.amount?.minorUnits ?? 0n),
        0n,
      ),
    ).toBe(0n);
  });

  it("refunds part of a delivered order against revenue and tax, once however often it is delivered", async () => {
    const orderId = uniqueName("o");
    await finance.emit(PaymentCapturedSchema, captured(orderId, 2_177n));
    await finance.emit(
      ShipmentDispatchedSchema,
      shipped(orderId, { sku: "B", net: 2_000n, discount: 0n, tax: 177n }),
    );
    await entriesOf(orderId, 2);
    const refund = refunded(orderId, 1_089n, { tax: 89n });
    const id = await finance.emit(RefundIssuedSchema, refund);
    await finance.emit(RefundIssuedSchema, refund, { id });
    const entries = await entriesOf(orderId, 3);
    const posted = byType(entries, "RefundIssued");
    expect(posted).toHaveLength(1);
    expect(posted[0] && lines(posted[0])).toEqual(["Dr 4060 1000", "Dr 2200 89", "Cr 1200 1089"]);
  });

  it("posts a refund of named lines line by line, each journal line with its SKU and tax code", async () => {
    const orderId = uniqueName("o");
    await finance.emit(PaymentCapturedSchema, captured(orderId, 3_266n));
    await finance.emit(
      ShipmentDispatchedSchema,
      shipped(orderId, { sku: "MUG", net: 3_000n, discount: 0n, tax: 266n, taxCode: "standard" }),
    );
    await entriesOf(orderId, 2);
    // As the order shares a refund out between the lines it names (order-changes.ts refundLines).
    const line = (sku: string, net: bigint, tax: bigint, taxCode: string) => ({
      lineId: sku,
      sku,
      netAmount: usd(net),
      tax: usd(tax),
      taxCode,
    });
    await finance.emit(
      RefundIssuedSchema,
      refunded(orderId, 1_661n, {
        tax: 89n,
        lineIds: ["MUG", "CARD"],
        lines: [line("MUG", 1_000n, 89n, "standard"), line("CARD", 572n, 0n, "zero")],
        basis: RefundBasis.DELIVERED,
      }),
    );
    const [refund] = byType(await entriesOf(orderId, 3), "RefundIssued");
    expect(refund?.lines.map((l) => `${lines({ ...refund, lines: [l] })[0]} ${l.sku} ${l.taxCode}`)).toEqual([
      "Dr 4060 1000 MUG standard",
      "Dr 2200 89 MUG standard",
      "Cr 1200 1089 MUG standard",
      "Dr 4060 572 CARD zero",
      "Cr 1200 572 CARD zero",
    ]);
    // Lines that do not account for the whole refund: posted once, as a refund of the order.
    const orderOnly = uniqueName("o");
    await finance.emit(PaymentCapturedSchema, captured(orderOnly, 1_089n));
    await finance.emit(
      RefundIssuedSchema,
      refunded(orderOnly, 1_089n, {
        tax: 89n,
        lines: [line("MUG", 500n, 44n, "standard")],
        basis: RefundBasis.UNDELIVERED,
      }),
    );
    const [whole] = byType(await entriesOf(orderOnly, 2), "RefundIssued");
    expect(whole && lines(whole)).toEqual(["Dr 2100 1089", "Cr 1200 1089"]);
    expect(whole?.lines.map((l) => l.sku)).toEqual(["", ""]);
  });

  it("holds a refund that arrives before its capture in suspense, and clears it when the capture comes", async () => {
    const orderId = uniqueName("o");
    const before = await balance("9999");
    await finance.emit(
      RefundIssuedSchema,
      create(RefundIssuedSchema, {
        orderId,
        paymentEvent: {
          paymentEventId: uniqueName("re"),
          type: PaymentEventType.REFUND,
          outcome: PaymentOutcome.APPROVED,
          amount: usd(300n),
          provider: "stripe",
        },
      }),
    );
    const [suspense] = await entriesOf(orderId, 1);
    expect(suspense && lines(suspense)).toEqual(["Dr 9999 300", "Cr 1200 300"]);
    await finance.emit(PaymentCapturedSchema, captured(orderId, 1_000n));
    const entries = await entriesOf(orderId, 3);
    expect(entries.some((e) => lines(e).join() === "Dr 2100 300,Cr 9999 300")).toBe(true);
    expect(await balance("9999")).toBe(before);
  });

  it("refunds money taken for goods not delivered against the deferral, and posts chargebacks", async () => {
    const orderId = uniqueName("o");
    await finance.emit(PaymentCapturedSchema, captured(orderId, 1_500n));
    await entriesOf(orderId, 1);
    await finance.emit(
      RefundIssuedSchema,
      create(RefundIssuedSchema, {
        orderId,
        paymentEvent: {
          paymentEventId: uniqueName("re"),
          type: PaymentEventType.REFUND,
          outcome: PaymentOutcome.APPROVED,
          amount: usd(500n),
          provider: "stripe",
        },
      }),
    );
    const chargebackEvent = await finance.emit(
      ChargebackOpenedSchema,
      create(ChargebackOpenedSchema, {
        orderId,
        paymentEvent: {
          paymentEventId: uniqueName("cb"),
          type: PaymentEventType.CHARGEBACK,
          outcome: PaymentOutcome.APPROVED,
          amount: usd(1_000n),
          provider: "stripe",
        },
        fee: usd(1_500n),
      }),
    );
    const entries = await entriesOf(orderId, 4);
    expect(entries.map(lines)).toEqual(
      expect.arrayContaining([
        ["Dr 2100 500", "Cr 1200 500"],
        ["Dr 5300 1000", "Cr 1200 1000"],
        ["Dr 5310 1500", "Cr 1200 1500"],
      ]),
    );
    const { entries: bySource } = await finance.client.listJournalEntries({ eventId: chargebackEvent });
    expect(bySource).toHaveLength(2);
    const { entries: byAccount } = await finance.client.listJournalEntries({
      accountCode: "5310",
      pageSize: 500,
    });
    expect(byAccount.map((e) => e.source?.orderId)).toContain(orderId);
  });

  it("posts gift cards as a liability when sold and reduces it when redeemed", async () => {
    const sold = uniqueName("o");
    await finance.emit(
      ShipmentDispatchedSchema,
      shipped(sold, { sku: "GIFT-50", net: 5_000n, discount: 0n, tax: 0n, taxCode: "gift_card" }),
    );
    const [sale] = await entriesOf(sold, 1);
    expect(sale && lines(sale)).toEqual(["Dr 2100 5000", "Cr 2300 5000"]);
    const redeemed = uniqueName("o");
    await finance.emit(PaymentCapturedSchema, captured(redeemed, 2_000n, { method: "gift_card" }));
    const [redemption] = await entriesOf(redeemed, 1);
    expect(redemption && lines(redemption)).toEqual(["Dr 2300 2000", "Cr 2100 2000"]);
  });

  it("reverses an entry with one pointing back to it, once", async () => {
    const orderId = uniqueName("o");
    await finance.emit(PaymentCapturedSchema, captured(orderId, 750n));
    const [entry] = await entriesOf(orderId, 1);
    const entryId = entry?.entryId ?? "";
    const { reversingEntry } = await finance.client.reverseJournalEntry({
      requestId: uniqueName("r"),
      entryId,
      reason: "posted twice by the PSP",
    });
    expect(reversingEntry && lines(reversingEntry)).toEqual(["Cr 1200 750", "Dr 2100 750"]);
    expect(reversingEntry?.reversesEntryId).toBe(entryId);
    const again = await finance.client.reverseJournalEntry({ requestId: uniqueName("r"), entryId });
    expect(again.reversingEntry?.entryId).toBe(reversingEntry?.entryId);
    expect((await finance.client.getJournalEntry({ entryId })).entry?.reversedByEntryId).toBe(
      reversingEntry?.entryId,
    );
    const error = await rejection(
      finance.client.reverseJournalEntry({
        requestId: uniqueName("r"),
        entryId: reversingEntry?.entryId ?? "",
      }),
    );
    expect(error.code).toBe(Code.FailedPrecondition);
    expect(error.findDetails(ErrorInfoSchema)[0]?.reason).toBe("REVERSAL_OF_REVERSAL");
  });

  it("pages through a period's entries", async () => {
    const periodId = new Date().toISOString().slice(0, 7);
    const { entries: all } = await finance.client.listJournalEntries({ periodId, pageSize: 500 });
    const seen: string[] = [];
    let pageToken = "";
    do {
      const page = await finance.client.listJournalEntries({ periodId, pageSize: 3, pageToken });
      expect(page.entries.length).toBeLessThanOrEqual(3);
      seen.push(...page.entries.map((e) => e.entryId));
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(all.length).toBeGreaterThan(3);
    expect(seen).toEqual(all.map((e) => e.entryId));
  });

  it("keeps the trial balance at zero in every currency", async () => {
    const period = new Date().toISOString().slice(0, 7);
    const { trialBalance } = await finance.client.getTrialBalance({ periodId: period });
    const debit = trialBalance?.rows.reduce((s, r) => s + (r.debitTotal?.minorUnits ?? 0n), 0n);
    const credit = trialBalance?.rows.reduce((s, r) => s + (r.creditTotal?.minorUnits ?? 0n), 0n);
    expect(debit).toBeGreaterThan(0n);
    expect(debit).toBe(credit);
  });
});

// The reconciliation rate counts a settlement's transaction lines only, and ledger items that no
// settlement covers within the grace period become exceptions in the queue, resolved if one comes later.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import { ReconciliationStatus, SettlementLineType } from "@retail/contracts/retail/finance/v1/finance_pb";
import { PaymentCapturedSchema } from "@retail/contracts/retail/order/v1/order_events_pb";
import { PaymentEventType, PaymentOutcome } from "@retail/contracts/retail/order/v1/order_pb";
import { uniqueName, until } from "@retail/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FinanceHarness, startFinance } from "./harness.js";

let finance: FinanceHarness;
beforeAll(async () => {
  finance = await startFinance("reconciliation", { SETTLEMENT_GRACE_DAYS: "14", UNSETTLED_SWEEP_MS: "200" });
}, 60_000);
afterAll(() => finance?.stop());

const usd = (minorUnits: bigint) => ({ currencyCode: "USD", minorUnits });
let emitted = 0;

async function capture(reference: string, amount: bigint, at: Date) {
  await finance.emit(
    PaymentCapturedSchema,
    create(PaymentCapturedSchema, {
      orderId: `o-${reference}`,
      channel: Channel.WEB,
      paymentEvent: {
        paymentEventId: uniqueName("ch"),
        type: PaymentEventType.CAPTURE,
        outcome: PaymentOutcome.APPROVED,
        amount: usd(amount),
        paymentMethod: "card",
        provider: "stripe",
        providerReference: reference,
        occurTime: timestampFromDate(at),
      },
    }),
  );
  emitted++;
  await until(async () => {
    const { entries } = await finance.client.listJournalEntries({ pageSize: 500 });
    expect(entries.filter((e) => e.description.startsWith("capture"))).toHaveLength(emitted);
  });
}

const exceptions = async () =>
  (await finance.client.listExceptions({ includeResolved: true, pageSize: 100 })).exceptions;

describe("reconciliation", () => {
  it("rates transaction lines only, and turns items no settlement covered in time into exceptions", async () => {
    const october = new Date("2026-10-01T12:00:00Z");
    await capture("ch-A", 1_000n, october);
    await capture("ch-B", 700n, october);
    await capture("ch-C", 300n, new Date()); // within the grace period: nobody is owed anything yet

    await finance.client.importSettlement({
      requestId: uniqueName("st"),
      settlement: {
        settlementId: "st-oct-1",
        provider: "stripe",
        currencyCode: "USD",
        payoutDate: "2026-10-05",
        payoutAmount: usd(1_470n),
        lines: [
          { lineId: "1", type: SettlementLineType.CAPTURE, providerReference: "ch-A", amount: usd(1_000n) },
          { lineId: "2", type: SettlementLineType.CAPTURE, providerReference: "ch-X", amount: usd(500n) },
          { lineId: "3", type: SettlementLineType.FEE, amount: usd(-30n) },
          { lineId: "4", type: SettlementLineType.PAYOUT, amount: usd(-1_470n) },
        ],
      },
    });
    // One of two transactions matched: 50 %, whatever the fee and payout lines did.
    const first = await finance.client.getReconciliation({ settlementId: "st-oct-1" });
    expect(first.reconciliationRateBps).toBe(5_000);

    const raised = await until(async () => {
      // ch-A may have been raised before its settlement came, and resolved by it: only ch-B stays open.
      const missing = (await exceptions()).filter(
        (e) => e.item?.status === ReconciliationStatus.MISSING_IN_SETTLEMENT && !e.resolved,
      );
      expect(
        missing,
        JSON.stringify(missing.map((m) => [m.item?.providerReference, m.item?.reason])),
      ).toHaveLength(1);
      return missing[0];
    });
    expect(raised?.item).toMatchObject({ providerReference: "ch-B", expected: usd(700n) });
    expect((await exceptions()).some((e) => e.item?.providerReference === "ch-C")).toBe(false);

    await finance.client.importSettlement({
      requestId: uniqueName("st"),
      settlement: {
        settlementId: "st-oct-2",
        provider: "stripe",
        currencyCode: "USD",
        payoutDate: "2026-10-20",
        payoutAmount: usd(700n),
        lines: [
          { lineId: "1", type: SettlementLineType.CAPTURE, providerReference: "ch-B", amount: usd(700n) },
          { lineId: "2", type: SettlementLineType.PAYOUT, amount: usd(-700n) },
        ],
      },
    });
    const late = (await exceptions()).find((e) => e.exceptionId === raised?.exceptionId);
    expect(late).toMatchObject({ resolved: true, resolution: "settled late by st-oct-2" });

    const report = await finance.client.getReconciliationReport({ periodId: "2026-10" });
    expect(report).toMatchObject({ settlementLines: 3, matchedLines: 2, reconciliationRateBps: 6_666 });
  });
});

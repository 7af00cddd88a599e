// The reconciliation rate counts a settlement's transaction lines only, and ledger items that no
// settlement covers within the grace period become exceptions in the queue, resolved if one comes later.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ErrorInfoSchema } from "@retail/contracts/google/rpc/error_details_pb";
import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import { ReconciliationStatus, SettlementLineType } from "@retail/contracts/retail/finance/v1/finance_pb";
import { PaymentCapturedSchema } from "@retail/contracts/retail/order/v1/order_events_pb";
import { PaymentEventType, PaymentOutcome } from "@retail/contracts/retail/order/v1/order_pb";
import { rejection, uniqueName, until, violatedFields } from "@retail/platform/testing";
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

  it("posts a payout the bank got once, and matches the payout line of the settlement that itemises it", async () => {
    const payout = (payoutId: string, amount: bigint) =>
      finance.client.recordPayout({
        requestId: uniqueName("po"),
        provider: "stripe",
        payoutId,
        amount: usd(amount),
        arrivalDate: "2026-11-20",
      });
    const first = await payout("po-1", 1_470n);
    expect(first.posted).toBe(true);
    expect(await payout("po-1", 1_470n)).toEqual(
      expect.objectContaining({ posted: false, journalEntryId: first.journalEntryId }),
    );
    const entry = (await finance.client.getJournalEntry({ entryId: first.journalEntryId })).entry;
    expect(entry?.lines.map((l) => [l.accountCode, l.side, l.amount?.minorUnits])).toEqual([
      ["1100", 1, 1_470n],
      ["1200", 2, 1_470n],
    ]);
    await capture("ch-P", 1_500n, new Date("2026-11-18T12:00:00Z"));

    const settle = (settlementId: string, payoutId: string, paid: bigint, more: Array<object> = []) =>
      finance.client.importSettlement({
        requestId: uniqueName("st"),
        settlement: {
          settlementId,
          provider: "stripe",
          currencyCode: "USD",
          payoutDate: "2026-11-20",
          payoutAmount: usd(paid),
          lines: [
            ...more,
            {
              lineId: "payout",
              type: SettlementLineType.PAYOUT,
              providerReference: payoutId,
              amount: usd(-paid),
            },
          ],
        },
      });
    // The itemisation of po-1: its payout line is the payout already posted, not a second one.
    const itemised = await settle("po-1", "po-1", 1_470n, [
      {
        lineId: "txn_1",
        type: SettlementLineType.CAPTURE,
        providerReference: "ch-P",
        amount: usd(1_500n),
        fee: usd(30n),
      },
    ]);
    expect(itemised.items.map((i) => [i.settlementLineId, i.status, i.journalEntryId || "-"])).toEqual([
      ["txn_1", ReconciliationStatus.MATCHED, expect.any(String)],
      ["payout", ReconciliationStatus.MATCHED, first.journalEntryId],
    ]);
    // A payout itemised before the bank's notice came is posted by its settlement; the notice then posts nothing.
    const early = await settle("po-2", "po-2", 200n, [
      { lineId: "adj", type: SettlementLineType.ADJUSTMENT, amount: usd(200n) },
    ]);
    expect(early.items.at(-1)?.status).toBe(ReconciliationStatus.MATCHED);
    expect(await payout("po-2", 200n)).toEqual(
      expect.objectContaining({ posted: false, journalEntryId: early.items.at(-1)?.journalEntryId }),
    );
    // The bank got another amount than the settlement pays out: one exception, naming both.
    await payout("po-3", 1_000n);
    const short = await settle("po-3", "po-3", 990n, [
      { lineId: "adj", type: SettlementLineType.ADJUSTMENT, amount: usd(990n) },
    ]);
    expect(short.items.at(-1)).toMatchObject({
      status: ReconciliationStatus.AMOUNT_MISMATCH,
      reason: "the bank got 1000, the settlement pays out 990 (USD minor units)",
    });
    // po-1, po-2 and po-3 once each (the October settlements' payout lines name no payout).
    const payouts = (await finance.client.listJournalEntries({ pageSize: 500 })).entries.filter((e) =>
      /payout.*\bpo-\d/.test(e.description),
    );
    expect(payouts).toHaveLength(3);
    expect(violatedFields(await rejection(payout("po-4", 0n)))).toEqual(["amount.minor_units"]);
  });

  it("imports a settlement sent in parts: each reconciled as it comes, a missing one named, the payout checked over all", async () => {
    await capture("ch-Q1", 1_000n, new Date("2026-11-18T12:00:00Z"));
    await capture("ch-Q2", 500n, new Date("2026-11-18T12:00:00Z"));
    const send = (part: number, lines: Array<object>, lastPart = false) =>
      finance.client.importSettlement({
        requestId: uniqueName("st"),
        part,
        lastPart,
        settlement: {
          settlementId: "st-parts-1",
          provider: "stripe",
          currencyCode: "USD",
          payoutDate: "2026-11-21",
          payoutAmount: usd(1_600n),
          lines,
        },
      });
    const first = await send(1, [
      {
        lineId: "1",
        type: SettlementLineType.CAPTURE,
        providerReference: "ch-Q1",
        amount: usd(1_000n),
        fee: usd(30n),
      },
    ]);
    expect([first.complete, first.items.map((i) => i.status)]).toEqual([
      false,
      [ReconciliationStatus.MATCHED],
    ]);
    const last = [
      { lineId: "3", type: SettlementLineType.CAPTURE, providerReference: "ch-Q2", amount: usd(500n) },
      { lineId: "4", type: SettlementLineType.PAYOUT, amount: usd(-1_570n) },
    ];
    // The last part before part 2: refused naming it, its own lines reconciled and kept.
    const early = await rejection(send(3, last, true));
    expect(early.findDetails(ErrorInfoSchema)[0]).toMatchObject({
      reason: "SETTLEMENT_PARTS_MISSING",
      metadata: { missing_parts: "2" },
    });
    expect(
      (await send(2, [{ lineId: "2", type: SettlementLineType.ADJUSTMENT, amount: usd(100n) }])).complete,
    ).toBe(false);
    const done = await send(3, last, true);
    expect(done.complete).toBe(true);
    // The payout is checked over every part's lines: 1000 - 30 + 100 + 500 = 1570, not 1600.
    expect(done.items.map((i) => [i.settlementLineId, i.status])).toEqual([
      ["3", ReconciliationStatus.MATCHED],
      ["4", ReconciliationStatus.MATCHED],
      ["payout", ReconciliationStatus.AMOUNT_MISMATCH],
    ]);
    expect(done.items[2]?.reason).toBe("the payout 1600 is not the sum of the settlement's lines 1570");
    // Read back whole, parts in order; a part sent again answers as before.
    const whole = await finance.client.getReconciliation({ settlementId: "st-parts-1" });
    expect(whole.items.filter((i) => i.settlementLineId).map((i) => i.settlementLineId)).toEqual([
      "1",
      "2",
      "3",
      "4",
      "payout",
    ]);
    expect(whole.reconciliationRateBps).toBe(10_000);
    const again = await send(1, [
      {
        lineId: "1",
        type: SettlementLineType.CAPTURE,
        providerReference: "ch-Q1",
        amount: usd(1_000n),
        fee: usd(30n),
      },
    ]);
    expect([again.complete, again.items.map((i) => i.settlementLineId)]).toEqual([true, ["1"]]);
    expect(violatedFields(await rejection(send(0, [], true)))).toEqual(["settlement.lines", "last_part"]);
  });
});

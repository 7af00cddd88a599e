import { readFile } from "node:fs/promises";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { BadRequestSchema, ErrorInfoSchema } from "@retail/contracts/google/rpc/error_details_pb";
import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import { ReconciliationExceptionResolvedSchema } from "@retail/contracts/retail/finance/v1/finance_events_pb";
import {
  EntrySide,
  type JournalEntry,
  PeriodStatus,
  ReconciliationStatus,
  SettlementLineType,
} from "@retail/contracts/retail/finance/v1/finance_pb";
import {
  OrderPickedUpSchema,
  PaymentCapturedSchema,
  RefundIssuedSchema,
} from "@retail/contracts/retail/order/v1/order_events_pb";
import { PaymentEventType, PaymentOutcome } from "@retail/contracts/retail/order/v1/order_pb";
import { captureEvents, rejection, testAmqpUrl, uniqueName, until } from "@retail/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postStoreSummaries } from "../src/app/periods.js";
import { type FinanceHarness, startFinance } from "./harness.js";

// Its own service and database: this file closes periods, which would disturb other files' postings.
let finance: FinanceHarness;

beforeAll(async () => {
  finance = await startFinance("close", { ERP_BATCHES_PER_MINUTE: "2" });
}, 60_000);
afterAll(() => finance?.stop());

const usd = (minorUnits: bigint) => ({ currencyCode: "USD", minorUnits });
const lines = (e: JournalEntry) =>
  e.lines.map((l) => `${l.side === EntrySide.DEBIT ? "Dr" : "Cr"} ${l.accountCode} ${l.amount?.minorUnits}`);
async function entriesOf(
  filter: { orderId?: string; periodId?: string },
  count: number,
): Promise<JournalEntry[]> {
  return until(
    async () => {
      const { entries } = await finance.client.listJournalEntries({ ...filter, pageSize: 500 });
      expect(entries).toHaveLength(count);
      return entries;
    },
    { timeout: 15_000, interval: 100 },
  );
}
function capture(orderId: string, amount: bigint, reference: string, at: Date, channel = Channel.WEB) {
  return create(PaymentCapturedSchema, {
    orderId,
    channel,
    paymentEvent: {
      paymentEventId: uniqueName("ch"),
      type: PaymentEventType.CAPTURE,
      outcome: PaymentOutcome.APPROVED,
      amount: usd(amount),
      paymentMethod: "card",
      provider: channel === Channel.MARKETPLACE ? "amazon-us" : "stripe",
      providerReference: reference,
      occurTime: timestampFromDate(at),
    },
  });
}

describe("settlements, periods and the ERP export", () => {
  it("reconciles a settlement: matched with its fee posted, an amount mismatch, money missing in the ledger", async () => {
    const at = new Date("2026-09-10T12:00:00Z");
    await finance.emit(PaymentCapturedSchema, capture("o-s1", 1_000n, "ch_s1", at));
    await finance.emit(PaymentCapturedSchema, capture("o-s2", 2_000n, "ch_s2", at));
    // Both posted before the settlement arrives: the consumer handles a prefetch window at once, so
    // the second capture may be posted before the first.
    await entriesOf({ orderId: "o-s1" }, 1);
    await entriesOf({ orderId: "o-s2" }, 1);
    const { items } = await finance.client.importSettlement({
      requestId: uniqueName("st"),
      settlement: {
        settlementId: "po_sep_1",
        provider: "stripe",
        currencyCode: "USD",
        payoutDate: "2026-09-12",
        payoutAmount: usd(2_740n),
        lines: [
          {
            lineId: "1",
            type: SettlementLineType.CAPTURE,
            providerReference: "ch_s1",
            orderId: "o-s1",
            amount: usd(1_000n),
            fee: usd(30n),
          },
          {
            lineId: "2",
            type: SettlementLineType.CAPTURE,
            providerReference: "ch_s2",
            orderId: "o-s2",
            amount: usd(1_900n),
          },
          {
            lineId: "3",
            type: SettlementLineType.CAPTURE,
            providerReference: "ch_unknown",
            amount: usd(100n),
          },
          { lineId: "4", type: SettlementLineType.FEE, amount: usd(-230n), description: "monthly fee" },
          { lineId: "5", type: SettlementLineType.PAYOUT, amount: usd(-2_740n) },
        ],
      },
    });
    expect(items.map((i) => [i.settlementLineId, ReconciliationStatus[i.status]])).toEqual([
      ["1", "MATCHED"],
      ["2", "AMOUNT_MISMATCH"],
      ["3", "MISSING_IN_LEDGER"],
      ["4", "MATCHED"],
      ["5", "MATCHED"],
    ]);
    expect(items[1]?.reason).toBe("ledger 2000, settlement 1900 (USD minor units)");
    const recon = await finance.client.getReconciliation({ settlementId: "po_sep_1" });
    // One of three transaction lines matched; the fee and payout lines are not counted.
    expect(recon.reconciliationRateBps).toBe(3_333);
    // The mismatched capture is in this settlement: its question is the amount, not whether it was
    // paid out, so it is not listed again as missing in the settlement.
    expect(
      recon.items.filter((i) => i.providerReference === "ch_s2").map((i) => ReconciliationStatus[i.status]),
    ).toEqual(["AMOUNT_MISMATCH"]);
    const { exceptions } = await finance.client.listExceptions({});
    expect(exceptions.map((e) => e.item?.settlementLineId).sort()).toEqual(["2", "3"]);
    const september = await entriesOf({ periodId: "2026-09" }, 5);
    const fees = september.filter((e) => e.lines.some((l) => l.accountCode === "5100")).map(lines);
    expect(fees).toEqual(
      expect.arrayContaining([
        ["Dr 5100 30", "Cr 1200 30"],
        ["Dr 5100 230", "Cr 1200 230"],
      ]),
    );
    expect(september.some((e) => lines(e).join() === "Dr 1100 2740,Cr 1200 2740")).toBe(true);
    // The same settlement imported again changes nothing.
    const again = await finance.client.importSettlement({
      requestId: uniqueName("st"),
      settlement: {
        settlementId: "po_sep_1",
        provider: "stripe",
        currencyCode: "USD",
        payoutDate: "2026-09-12",
        lines: [{ lineId: "9", type: SettlementLineType.FEE, amount: usd(-1n) }],
      },
    });
    expect(again.items).toHaveLength(5);
  });

  it("flags a payout that is not the sum of its settlement's lines less their fees", async () => {
    const { items } = await finance.client.importSettlement({
      requestId: uniqueName("st"),
      settlement: {
        settlementId: "po_nov_bad",
        provider: "stripe",
        currencyCode: "USD",
        payoutDate: "2026-11-02",
        payoutAmount: usd(999n),
        lines: [{ lineId: "1", type: SettlementLineType.ADJUSTMENT, amount: usd(1_000n), fee: usd(2n) }],
      },
    });
    expect(items.at(-1)).toMatchObject({
      settlementLineId: "payout",
      status: ReconciliationStatus.AMOUNT_MISMATCH,
    });
    expect(items.at(-1)?.reason).toBe("the payout 999 is not the sum of the settlement's lines 998");
  });

  it("posts marketplace captures to the marketplace receivable and commissions against it", async () => {
    const at = new Date("2026-09-15T12:00:00Z");
    await finance.emit(PaymentCapturedSchema, capture("o-amz", 5_000n, "amz-1", at, Channel.MARKETPLACE));
    const [sale] = await entriesOf({ orderId: "o-amz" }, 1);
    expect(sale && lines(sale)).toEqual(["Dr 1210 5000", "Cr 2100 5000"]);
    await finance.client.importSettlement({
      requestId: uniqueName("st"),
      settlement: {
        settlementId: "amz_sep",
        provider: "amazon-us",
        currencyCode: "USD",
        payoutDate: "2026-09-20",
        payoutAmount: usd(4_250n),
        lines: [
          { lineId: "1", type: SettlementLineType.CAPTURE, providerReference: "amz-1", amount: usd(5_000n) },
          {
            lineId: "2",
            type: SettlementLineType.COMMISSION,
            amount: usd(-750n),
            description: "referral fee",
          },
          { lineId: "3", type: SettlementLineType.PAYOUT, amount: usd(-4_250n) },
        ],
      },
    });
    const { balances } = await finance.client.getAccountBalance({ accountCode: "1210", periodId: "2026-09" });
    expect(balances).toEqual([expect.objectContaining({ currencyCode: "USD", minorUnits: 0n })]);
    const commissions = await finance.client.getAccountBalance({ accountCode: "5200" });
    expect(commissions.balances[0]?.minorUnits).toBe(750n);
  });

  it("reports a period's reconciliation: rate, open exceptions by age, refunds not yet settled", async () => {
    await finance.emit(
      RefundIssuedSchema,
      create(RefundIssuedSchema, {
        orderId: "o-s1",
        paymentEvent: {
          paymentEventId: uniqueName("re"),
          type: PaymentEventType.REFUND,
          outcome: PaymentOutcome.APPROVED,
          amount: usd(250n),
          provider: "stripe",
          providerReference: "re_s1",
          occurTime: timestampFromDate(new Date("2026-09-20T10:00:00Z")),
        },
      }),
    );
    await entriesOf({ orderId: "o-s1" }, 3); // capture, its settlement fee, the refund
    const report = await finance.client.getReconciliationReport({ periodId: "2026-09" });
    expect(report).toMatchObject({
      settlements: 2,
      settlementLines: 4,
      matchedLines: 2,
      reconciliationRateBps: 5_000,
      unsettledRefunds: 1,
    });
    expect(report.openExceptions.map((b) => [b.band, b.count])).toEqual([
      ["0-7 days", 2],
      ["8-30 days", 0],
      ["over 30 days", 0],
    ]);
    expect(report.unsettledRefundTotals).toEqual([
      expect.objectContaining({ currencyCode: "USD", minorUnits: 250n }),
    ]);
  });

  it("refuses to close a period with open exceptions unless they are carried forward, then posts late events into the next period", async () => {
    const refused = await rejection(
      finance.client.closePeriod({ requestId: uniqueName("c"), periodId: "2026-09" }),
    );
    expect(refused.code).toBe(Code.FailedPrecondition);
    expect(refused.findDetails(ErrorInfoSchema)[0]?.reason).toBe("UNRECONCILED_ITEMS");
    const { exceptions } = await finance.client.listExceptions({});
    const resolutions = await captureEvents(testAmqpUrl(), finance.exchange, [
      "finance.reconciliation_exception_resolved",
    ]);
    const exceptionId = exceptions.find((e) => e.item?.settlementLineId === "3")?.exceptionId ?? "";
    await finance.client.resolveException({
      requestId: uniqueName("r"),
      exceptionId,
      resolution: "test charge, refunded by the PSP",
    });
    // Said on the bus with who resolved it, for the operations lists and their audit.
    await until(() =>
      expect(resolutions.of(ReconciliationExceptionResolvedSchema)).toEqual([
        expect.objectContaining({
          exceptionId,
          resolution: "test charge, refunded by the PSP",
          resolvedBy: expect.stringMatching(/.+/),
        }),
      ]),
    );
    await resolutions.close();
    const closed = await finance.client.closePeriod({
      requestId: uniqueName("c"),
      periodId: "2026-09",
      carryForwardExceptions: true,
    });
    expect(closed.period?.status).toBe(PeriodStatus.CLOSED);
    const debit = closed.trialBalance?.rows.reduce((s, r) => s + (r.debitTotal?.minorUnits ?? 0n), 0n);
    expect(debit).toBe(closed.trialBalance?.rows.reduce((s, r) => s + (r.creditTotal?.minorUnits ?? 0n), 0n));
    const carried = (await finance.client.listExceptions({})).exceptions;
    expect(carried.filter((e) => e.periodId === "2026-09").map((e) => e.carriedToPeriodId)).toEqual([
      "2026-10",
    ]);

    await finance.emit(
      PaymentCapturedSchema,
      capture("o-late", 400n, "ch_late", new Date("2026-09-28T12:00:00Z")),
    );
    const [late] = await entriesOf({ orderId: "o-late" }, 1);
    expect(late).toMatchObject({
      periodId: "2026-10",
      postingDate: "2026-09-28",
      movedFromClosedPeriod: true,
    });
  });

  it("summarises a store's POS sales per day and account", async () => {
    const at = new Date("2026-10-05T15:00:00Z");
    for (const [orderId, net, tax] of [
      ["pos-1", 1_000n, 89n],
      ["pos-2", 500n, 44n],
    ] as const) {
      await finance.emit(
        OrderPickedUpSchema,
        create(OrderPickedUpSchema, {
          orderId,
          channel: Channel.POS,
          locationId: "store-042",
          lines: [
            {
              lineId: "1",
              sku: orderId,
              quantity: 1n,
              netAmount: usd(net),
              discount: usd(0n),
              tax: usd(tax),
              taxCode: "standard",
            },
          ],
        }),
        { at },
      );
    }
    await until(async () => expect((await finance.running.deps.stores.pending(undefined)).length).toBe(2), {
      timeout: 15_000,
    });
    expect(await postStoreSummaries(finance.running.deps, "2026-10-06")).toBe(1);
    const { entries } = await finance.client.listJournalEntries({ periodId: "2026-10", pageSize: 500 });
    const summary = entries.find((e) => e.source?.storeId === "store-042");
    expect(summary && lines(summary)).toEqual(["Dr 2100 1633", "Cr 2200 133", "Cr 4000 1500"]);
    expect(summary?.description).toBe("store store-042 sales summary for 2026-10-05 (2 postings)");
    expect(await postStoreSummaries(finance.running.deps, "2026-10-06")).toBe(0);
    // The summary leaves the detail out of the general ledger; the subledger keeps it.
    const { postings } = await finance.client.listSubledgerLines({
      storeId: "store-042",
      postingDate: "2026-10-05",
    });
    expect(
      postings.map((p) => [
        p.orderId,
        p.summaryEntryId,
        p.lines.map((l) => `${l.accountCode} ${l.sku} ${l.amount?.minorUnits}`),
      ]),
    ).toEqual(
      expect.arrayContaining([
        ["pos-1", summary?.entryId, ["2100 pos-1 1089", "4000 pos-1 1000", "2200 pos-1 89"]],
        ["pos-2", summary?.entryId, ["2100 pos-2 544", "4000 pos-2 500", "2200 pos-2 44"]],
      ]),
    );
  });

  it("exports journal entries to the ERP as a NetSuite CSV batch, once per request, within its rate limit", async () => {
    const first = await finance.client.exportJournalBatch({ requestId: "export-1", adapter: "netsuite-csv" });
    expect(first.entryIds.length).toBeGreaterThan(5);
    const csv = await readFile(first.location, "utf8");
    const rows = csv.trim().split("\r\n");
    expect(rows[0]).toBe(
      "External ID,Date,Currency,Account,Account Name,Debit,Credit,Memo,Line Memo,Department",
    );
    expect(rows.some((r) => r.includes(",USD,1100,Bank,27.40,,"))).toBe(true);
    const retried = await finance.client.exportJournalBatch({
      requestId: "export-1",
      adapter: "netsuite-csv",
    });
    expect(retried).toMatchObject({ batchId: first.batchId, entryIds: first.entryIds });
    await finance.emit(PaymentCapturedSchema, capture("o-after", 100n, "ch_after", new Date()));
    await entriesOf({ orderId: "o-after" }, 1);
    const second = await finance.client.exportJournalBatch({
      requestId: "export-2",
      adapter: "netsuite-csv",
    });
    expect(second.entryIds).toHaveLength(1);
    expect(second.entryIds.some((id) => first.entryIds.includes(id))).toBe(false);
    const limited = await rejection(
      finance.client.exportJournalBatch({ requestId: "export-3", adapter: "netsuite-csv" }),
    );
    expect(limited.code).toBe(Code.ResourceExhausted);
    const unknown = await rejection(
      finance.client.exportJournalBatch({ requestId: "export-4", adapter: "sap-idoc" }),
    );
    expect(unknown.findDetails(BadRequestSchema)[0]?.fieldViolations[0]?.field).toBe("adapter");
  });
});

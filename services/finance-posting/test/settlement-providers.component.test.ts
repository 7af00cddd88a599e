// Settlement providers map to posting rules by their kind, explicitly: a marketplace's payout and fees
// clear its receivable, and a provider the rule set does not list is refused, never posted by default.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { ErrorInfoSchema } from "@retail/contracts/google/rpc/error_details_pb";
import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import { SettlementLineType } from "@retail/contracts/retail/finance/v1/finance_pb";
import { PaymentCapturedSchema } from "@retail/contracts/retail/order/v1/order_events_pb";
import { PaymentEventType, PaymentOutcome } from "@retail/contracts/retail/order/v1/order_pb";
import { rejection, uniqueName, until } from "@retail/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FinanceHarness, startFinance } from "./harness.js";

let finance: FinanceHarness;
beforeAll(async () => {
  finance = await startFinance("providers");
}, 60_000);
afterAll(() => finance?.stop());

const usd = (minorUnits: bigint) => ({ currencyCode: "USD", minorUnits });
const balance = async (accountCode: string) =>
  (await finance.client.getAccountBalance({ accountCode })).balances[0]?.minorUnits ?? 0n;

describe("settlement providers", () => {
  it("clears a marketplace's receivable with the payout and fees of its settlement, as the gateway names it", async () => {
    await finance.emit(
      PaymentCapturedSchema,
      create(PaymentCapturedSchema, {
        orderId: "o-amazon",
        channel: Channel.MARKETPLACE,
        paymentEvent: {
          paymentEventId: uniqueName("ch"),
          type: PaymentEventType.CAPTURE,
          outcome: PaymentOutcome.APPROVED,
          amount: usd(10_000n),
          paymentMethod: "marketplace",
          provider: "amazon",
          providerReference: "114-0000001-0000001",
          occurTime: timestampFromDate(new Date("2026-10-05T10:00:00Z")),
        },
      }),
    );
    await until(async () => expect(await balance("1210")).toBe(10_000n), { timeout: 15_000, interval: 100 });
    await finance.client.importSettlement({
      requestId: uniqueName("st"),
      settlement: {
        settlementId: "amazon-oct-1",
        provider: "amazon",
        currencyCode: "USD",
        payoutDate: "2026-10-10",
        payoutAmount: usd(8_350n),
        lines: [
          {
            lineId: "1",
            type: SettlementLineType.CAPTURE,
            providerReference: "114-0000001-0000001",
            amount: usd(10_000n),
          },
          { lineId: "2", type: SettlementLineType.FEE, amount: usd(-150n), description: "FBA fee" },
          {
            lineId: "3",
            type: SettlementLineType.COMMISSION,
            amount: usd(-1_500n),
            description: "referral fee",
          },
          { lineId: "4", type: SettlementLineType.PAYOUT, amount: usd(-8_350n) },
        ],
      },
    });
    expect(await balance("1210")).toBe(0n);
    expect(await balance("1200")).toBe(0n); // the card clearing account is not touched
    expect(await balance("5200")).toBe(1_650n);
    expect(await balance("1100")).toBe(8_350n);
  });

  it("refuses a settlement from a provider the rule set does not list, naming it, and posts nothing", async () => {
    const refused = await rejection(
      finance.client.importSettlement({
        requestId: uniqueName("st"),
        settlement: {
          settlementId: "acme-1",
          provider: "acme-pay",
          currencyCode: "USD",
          payoutDate: "2026-10-10",
          payoutAmount: usd(900n),
          lines: [
            { lineId: "1", type: SettlementLineType.FEE, amount: usd(-100n) },
            { lineId: "2", type: SettlementLineType.PAYOUT, amount: usd(-900n) },
          ],
        },
      }),
    );
    expect(refused.code).toBe(Code.FailedPrecondition);
    const info = refused.findDetails(ErrorInfoSchema)[0];
    expect(info?.reason).toBe("SETTLEMENT_PROVIDER_UNKNOWN");
    expect(info?.metadata.provider).toBe("acme-pay");
    const { entries } = await finance.client.listJournalEntries({ pageSize: 500 });
    expect(entries.some((e) => e.description.includes("acme-1"))).toBe(false);
  });
});

// The finance handler as callers see it, served through createRouterTransport with the platform's
// server interceptor (error mapping included) and in-memory ports: validation and error details in
// milliseconds, no database.
import { type Client, Code, createClient, createRouterTransport } from "@connectrpc/connect";
import { ErrorInfoSchema } from "@retail/contracts/google/rpc/error_details_pb";
import { SettlementLineType } from "@retail/contracts/retail/finance/v1/finance_pb";
import { FinancePostingService } from "@retail/contracts/retail/finance/v1/finance_service_pb";
import { createLogger } from "@retail/platform/log";
import { createServerInterceptor } from "@retail/platform/rpc";
import { rejection, violatedFields } from "@retail/platform/testing";
import { beforeEach, describe, expect, it } from "vitest";
import type { FinanceDeps } from "../app/ports.js";
import { defaultRuleSet } from "../domain/rules.js";
import { mapFinanceError } from "./error-codes.js";
import { createFinanceHandler } from "./finance-handler.js";

let client: Client<typeof FinancePostingService>;

beforeEach(() => {
  const logger = createLogger({ service: "test", level: "silent" });
  const deps = {
    rules: defaultRuleSet,
    journal: { get: async () => undefined },
    settlements: { get: async () => undefined },
    erp: new Map(),
    clock: { now: () => new Date() },
    logger,
    lock: (_key: string, work: () => Promise<unknown>) => work(),
  } as unknown as FinanceDeps;
  const transport = createRouterTransport(
    ({ service }) => service(FinancePostingService, createFinanceHandler(deps)),
    { router: { interceptors: [createServerInterceptor({ logger, mapDomainError: mapFinanceError })] } },
  );
  client = createClient(FinancePostingService, transport);
});

const fields = violatedFields;

describe("finance handler", () => {
  it("refuses a settlement naming every bad field, before anything is imported", async () => {
    const error = await rejection(
      client.importSettlement({
        requestId: "s1",
        settlement: {
          settlementId: "st-1",
          provider: "stripe",
          currencyCode: "ZZZ",
          payoutDate: "27/11/2026",
          lines: [
            {
              lineId: "1",
              type: SettlementLineType.CAPTURE,
              amount: { currencyCode: "USD", minorUnits: 100n },
            },
            { lineId: "1", type: SettlementLineType.FEE },
          ],
        },
      }),
    );
    expect(error.code).toBe(Code.InvalidArgument);
    expect(fields(error)).toEqual(
      expect.arrayContaining([
        "settlement.currency_code",
        "settlement.payout_date",
        "settlement.lines[0].provider_reference",
        "settlement.lines[1].line_id",
        "settlement.lines[1].amount",
      ]),
    );
    const tooLong = await rejection(
      client.importSettlement({
        requestId: "s2",
        settlement: {
          settlementId: "st-2",
          provider: "amazon",
          currencyCode: "USD",
          payoutDate: "2026-11-27",
          lines: Array.from({ length: 100_001 }, (_, i) => ({
            lineId: String(i),
            type: SettlementLineType.FEE,
          })),
        },
      }),
    );
    expect(fields(tooLong)).toContain("settlement.lines");
  });

  it("refuses accounts outside the chart, periods that are not periods, and unknown ERP adapters", async () => {
    expect(
      fields(await rejection(client.getAccountBalance({ accountCode: "0000", periodId: "November" }))),
    ).toEqual(["account_code", "period_id"]);
    expect(
      fields(await rejection(client.exportJournalBatch({ requestId: "e1", adapter: "sap-idoc" }))),
    ).toEqual(["adapter"]);
  });

  it("refuses a journal page token it did not issue", async () => {
    expect(fields(await rejection(client.listJournalEntries({ pageToken: "abc" })))).toEqual(["page_token"]);
  });

  it("maps an unknown journal entry to NOT_FOUND", async () => {
    const error = await rejection(client.getJournalEntry({ entryId: "je-missing" }));
    expect(error.code).toBe(Code.NotFound);
    expect(error.findDetails(ErrorInfoSchema)[0]).toMatchObject({
      reason: "JOURNAL_ENTRY_NOT_FOUND",
      metadata: { journal_entry_id: "je-missing" },
    });
  });
});

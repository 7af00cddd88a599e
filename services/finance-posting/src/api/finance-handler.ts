import type { ServiceImpl } from "@connectrpc/connect";
import { SettlementLineTypeSchema } from "@retail/contracts/retail/finance/v1/finance_pb";
import {
  ExportJournalBatchRequestSchema,
  type FinancePostingService,
} from "@retail/contracts/retail/finance/v1/finance_service_pb";
import { isCurrencyCode } from "@retail/platform/money";
import { currentCallContext, Violations } from "@retail/platform/rpc";
import { checkPageRequest, requestOf } from "@retail/platform/store";
import { exportBatch } from "../app/export-batch.js";
import { accountBalance, closePeriod, trialBalance } from "../app/periods.js";
import type { FinanceDeps } from "../app/ports.js";
import { entryIdOf, journalLines } from "../app/record-posting.js";
import { reverseEntry } from "../app/reverse-entry.js";
import {
  importSettlement,
  importSettlementPart,
  reconciliation,
  reconciliationReport,
  recordPayout,
  referencedLineTypes,
} from "../app/settlements.js";
import { resolveException } from "../app/unsettled-items.js";
import { NotFound } from "../domain/errors.js";

const datePattern = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;
const periodPattern = /^\d{4}-(0[1-9]|1[0-2])$/;
const maxPageSize = 500;

/** A marketplace's busiest settlement runs to tens of thousands of lines; far beyond is not a report. */
const maxSettlementLines = 100_000;
/** Lines of one part of a settlement sent in parts (each part is stored as a document of its own). */
const maxPartLines = 25_000;

const pageLimits = { max: maxPageSize, default: 50 };

/** FinancePostingService over Connect: request in, validated command, use case, response out. */
export function createFinanceHandler(deps: FinanceDeps): ServiceImpl<typeof FinancePostingService> {
  return {
    async getJournalEntry(request) {
      const v = new Violations();
      v.require("entry_id", request.entryId);
      v.throwIfAny();
      const stored = await deps.journal.get(request.entryId);
      if (!stored) throw new NotFound("journal entry", request.entryId);
      return { entry: { ...stored.entry, reversedByEntryId: stored.reversedBy } };
    },

    async listJournalEntries(request) {
      const v = new Violations();
      if (request.periodId && !periodPattern.test(request.periodId))
        v.add("period_id", "must be a period such as 2026-11");
      const pageSize = checkPageRequest(v, request, pageLimits);
      v.throwIfAny();
      const page = await deps.journal.list(
        {
          ...(request.periodId ? { periodId: request.periodId } : {}),
          ...(request.orderId ? { orderId: request.orderId } : {}),
          ...(request.accountCode ? { accountCode: request.accountCode } : {}),
          ...(request.eventId ? { eventId: request.eventId } : {}),
        },
        pageSize,
        request.pageToken,
      );
      return {
        entries: page.entries.map((e) => ({ ...e.entry, reversedByEntryId: e.reversedBy })),
        nextPageToken: page.nextPageToken,
      };
    },

    async reverseJournalEntry(request) {
      const v = new Violations();
      v.require("request_id", request.requestId);
      v.require("entry_id", request.entryId);
      v.throwIfAny();
      return {
        reversingEntry: await reverseEntry(deps, { entryId: request.entryId, reason: request.reason }),
      };
    },

    async getTrialBalance(request) {
      const v = new Violations();
      if (!periodPattern.test(request.periodId)) v.add("period_id", "must be a period such as 2026-11");
      v.throwIfAny();
      if (!(await deps.periods.get(request.periodId))) throw new NotFound("period", request.periodId);
      return { trialBalance: await trialBalance(deps, request.periodId) };
    },

    async importSettlement(request) {
      const v = new Violations();
      v.require("request_id", request.requestId);
      const s = request.settlement;
      if (!s) v.add("settlement", "is required");
      else {
        v.require("settlement.settlement_id", s.settlementId);
        v.require("settlement.provider", s.provider);
        if (!isCurrencyCode(s.currencyCode))
          v.add("settlement.currency_code", "must be an ISO 4217 code such as USD");
        if (!datePattern.test(s.payoutDate))
          v.add("settlement.payout_date", "must be a date such as 2026-11-26");
        if (s.lines.length === 0 && request.part === 0) v.add("settlement.lines", "is required");
        const most = request.part > 0 ? maxPartLines : maxSettlementLines;
        if (s.lines.length > most)
          v.add(
            "settlement.lines",
            `must have at most ${most} lines${request.part > 0 ? " per part" : ""} (send the settlement in parts of at most ${maxPartLines})`,
          );
        const ids = new Set<string>();
        for (const [i, line] of s.lines.entries()) {
          if (v.require(`settlement.lines[${i}].line_id`, line.lineId) && ids.has(line.lineId)) {
            v.add(`settlement.lines[${i}].line_id`, "repeats another line's id");
          }
          ids.add(line.lineId);
          if (line.type === 0 || !SettlementLineTypeSchema.values.some((t) => t.number === line.type)) {
            v.add(`settlement.lines[${i}].type`, "must be a known settlement line type");
          }
          if (referencedLineTypes.has(line.type))
            v.require(`settlement.lines[${i}].provider_reference`, line.providerReference);
          if (!line.amount) v.add(`settlement.lines[${i}].amount`, "is required");
          else if (line.amount.currencyCode !== s.currencyCode)
            v.add(
              `settlement.lines[${i}].amount.currency_code`,
              `must be the settlement currency ${s.currencyCode}`,
            );
        }
      }
      if (request.part < 0) v.add("part", "must be 1 or more (or 0 for a whole settlement)");
      if (request.lastPart && request.part === 0) v.add("last_part", "needs the part's number");
      v.throwIfAny();
      if (!s) throw new Error("validated above");
      if (request.part > 0) return importSettlementPart(deps, s, request.part, request.lastPart);
      const stored = await importSettlement(deps, s);
      return { items: [...stored.items], complete: true };
    },

    async recordPayout(request) {
      const v = new Violations();
      v.require("request_id", request.requestId);
      v.require("provider", request.provider);
      v.require("payout_id", request.payoutId);
      if (!request.amount) v.add("amount", "is required");
      else {
        if (!isCurrencyCode(request.amount.currencyCode))
          v.add("amount.currency_code", "must be an ISO 4217 code such as USD");
        if (request.amount.minorUnits <= 0n)
          v.add("amount.minor_units", "must be positive: what reached the bank");
      }
      if (!datePattern.test(request.arrivalDate)) v.add("arrival_date", "must be a date such as 2026-11-26");
      v.throwIfAny();
      return recordPayout(deps, {
        provider: request.provider,
        payoutId: request.payoutId,
        currency: request.amount?.currencyCode ?? "",
        amount: request.amount?.minorUnits ?? 0n,
        arrivalDate: request.arrivalDate,
        description: request.description,
      });
    },

    async getReconciliation(request) {
      const v = new Violations();
      v.require("settlement_id", request.settlementId);
      v.throwIfAny();
      const stored = await deps.settlements.get(request.settlementId);
      if (!stored) throw new NotFound("settlement", request.settlementId);
      const { items, rateBps } = await reconciliation(deps, stored);
      return { settlementId: request.settlementId, items, reconciliationRateBps: rateBps };
    },

    async listPeriods() {
      return { periods: await deps.periods.list() };
    },

    async getAccountBalance(request) {
      const v = new Violations();
      if (v.require("account_code", request.accountCode) && !deps.rules.accounts[request.accountCode]) {
        v.add("account_code", "is not in the chart of accounts");
      }
      if (request.periodId && !periodPattern.test(request.periodId))
        v.add("period_id", "must be a period such as 2026-11");
      v.throwIfAny();
      return {
        accountCode: request.accountCode,
        balances: await accountBalance(deps, request.accountCode, request.periodId),
      };
    },

    async listExceptions(request) {
      const v = new Violations();
      const pageSize = checkPageRequest(v, request, pageLimits);
      v.throwIfAny();
      return deps.exceptions.list(request.includeResolved, pageSize, request.pageToken);
    },

    async resolveException(request) {
      const v = new Violations();
      v.require("request_id", request.requestId);
      v.require("exception_id", request.exceptionId);
      v.require("resolution", request.resolution.trim());
      v.throwIfAny();
      const exception = await deps.exceptions.get(request.exceptionId);
      if (!exception) throw new NotFound("exception", request.exceptionId);
      return {
        exception: await resolveException(
          deps,
          exception,
          request.resolution,
          currentCallContext()?.caller || "finance-posting",
        ),
      };
    },

    async exportJournalBatch(request) {
      const v = new Violations();
      v.require("request_id", request.requestId);
      if (v.require("adapter", request.adapter) && !deps.erp.has(request.adapter)) {
        v.add("adapter", `must be one of ${[...deps.erp.keys()].join(", ")}`);
      }
      if (request.maxEntries < 0) v.add("max_entries", "must be zero or more");
      v.throwIfAny();
      const batch = await exportBatch(deps, {
        request: requestOf(ExportJournalBatchRequestSchema, request),
        adapter: request.adapter,
        maxEntries: request.maxEntries,
      });
      return { batchId: batch.batchId, entryIds: [...batch.entryIds], location: batch.location };
    },

    async listSubledgerLines(request) {
      const v = new Violations();
      const byDay = request.storeId || request.postingDate;
      if (byDay && request.orderId) v.add("order_id", "give a store and day, or an order, not both");
      if (!byDay && !request.orderId) v.add("store_id", "give a store and day, or an order");
      if (byDay) {
        v.require("store_id", request.storeId);
        if (!datePattern.test(request.postingDate))
          v.add("posting_date", "must be a date such as 2026-11-26");
      }
      v.throwIfAny();
      const lines = request.orderId
        ? await deps.stores.forOrder(request.orderId)
        : await deps.stores.forStoreDay(request.storeId, request.postingDate);
      return {
        postings: lines.map((l) => ({
          orderId: l.orderId,
          storeId: l.storeId,
          postingDate: l.postingDate,
          postingKey: l.key,
          summaryEntryId: l.summaryKey ? entryIdOf(l.summaryKey) : "",
          lines: journalLines(l.currency, l.lines),
        })),
      };
    },

    async getReconciliationReport(request) {
      const v = new Violations();
      if (!periodPattern.test(request.periodId)) v.add("period_id", "must be a period such as 2026-11");
      v.throwIfAny();
      if (!(await deps.periods.get(request.periodId))) throw new NotFound("period", request.periodId);
      return reconciliationReport(deps, request.periodId);
    },

    async closePeriod(request) {
      const v = new Violations();
      v.require("request_id", request.requestId);
      if (!periodPattern.test(request.periodId)) v.add("period_id", "must be a period such as 2026-11");
      v.throwIfAny();
      return closePeriod(deps, { periodId: request.periodId, carryForward: request.carryForwardExceptions });
    },
  };
}

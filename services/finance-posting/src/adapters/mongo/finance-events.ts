import type { DescMessage, Message } from "@bufbuild/protobuf";
import {
  ErpBatchExportedSchema,
  JournalEntryReversedSchema,
  PeriodClosedSchema,
  ReconciliationExceptionRaisedSchema,
  ReconciliationExceptionResolvedSchema,
  SettlementReconciledSchema,
} from "@retail/contracts/retail/finance/v1/finance_events_pb";
import { ConcurrencyConflict, event, type StreamStore } from "@retail/platform/store";
import type { FinanceEvents } from "../../app/ports.js";

/** Finance events through the outbox: each on a stream of its own, appended once. */
export function createFinanceEvents(store: StreamStore): FinanceEvents {
  return {
    async publish(streamId, message: Message) {
      const schema = registry.get(message.$typeName);
      if (!schema) throw new Error(`no schema for ${message.$typeName}`);
      await store.append(streamId, 0, [event(schema, message as never)]).catch((error: unknown) => {
        if (!(error instanceof ConcurrencyConflict)) throw error; // published before
      });
    },
  };
}

const registry = new Map<string, DescMessage>(
  [
    ErpBatchExportedSchema,
    JournalEntryReversedSchema,
    PeriodClosedSchema,
    ReconciliationExceptionRaisedSchema,
    ReconciliationExceptionResolvedSchema,
    SettlementReconciledSchema,
  ].map((s) => [s.typeName, s] as const),
);

// What an event says about the exception lists: the trouble it opens (a capture finance must post, a
// movement that came late, a channel showing other stock, a reservation that lapsed) and the trouble it
// ends (the posting came, the drift cleared). Worked out from the event alone, so events may come in any
// order and twice: opening and ending are each idempotent and commute.
import { fromBinary } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import {
  JournalEntryPostedSchema,
  ReconciliationExceptionRaisedSchema,
  ReconciliationExceptionResolvedSchema,
} from "@retail/contracts/retail/finance/v1/finance_events_pb";
import { ReconciliationStatus } from "@retail/contracts/retail/finance/v1/finance_pb";
import {
  ChannelStockReportedSchema,
  ReservationExpiredSchema,
  StockMovementRecordedSchema,
} from "@retail/contracts/retail/inventory/v1/inventory_events_pb";
import { ExceptionKind } from "@retail/contracts/retail/operations/v1/operations_pb";
import { PaymentCapturedSchema, RefundIssuedSchema } from "@retail/contracts/retail/order/v1/order_events_pb";

/** An item of an exception list as opened. */
export interface OpenItem {
  readonly exceptionId: string;
  readonly kind: ExceptionKind;
  readonly subject: string;
  readonly since: Date;
  readonly reason: string;
  readonly eventId: string;
  readonly correlationId: string;
  readonly sourceSystem: string;
  readonly orderId: string;
}

export type ExceptionChange =
  /** Opens the item (again the same: nothing changes). */
  | { readonly change: "open"; readonly item: OpenItem }
  /** Opens the item, or opens it again if it was resolved; an open one keeps when it began. */
  | { readonly change: "reopen"; readonly item: OpenItem }
  /** Ends the item (recorded even before it opened: the opening then finds it ended). */
  | { readonly change: "resolve"; readonly exceptionId: string; readonly at: Date };

export interface ObservedEvent {
  readonly eventId: string;
  readonly type: string;
  readonly data: Uint8Array;
  readonly time: Date;
  readonly correlationId: string;
}

/** The item of one of finance's reconciliation exceptions. */
const settlementExceptionId = (financeExceptionId: string) => `settlement:${financeExceptionId}`;

/** The id of the item a capture or refund opens until finance posts it: the event's own id. */
export const notInLedgerId = (eventId: string) => `not-in-ledger:${eventId}`;

const minutes = (ms: number) =>
  ms >= 3_600_000 ? `${(ms / 3_600_000).toFixed(1)} h` : `${Math.round(ms / 60_000)} min`;

/** The exception changes an event makes; `lateStockMs`: how late a stock movement may be recorded. */
export function exceptionChanges(event: ObservedEvent, options: { lateStockMs: number }): ExceptionChange[] {
  const base = { eventId: event.eventId, correlationId: event.correlationId };
  switch (event.type) {
    case PaymentCapturedSchema.typeName:
    case RefundIssuedSchema.typeName: {
      const capture = event.type === PaymentCapturedSchema.typeName;
      const { orderId, channel, paymentEvent } = fromBinary(
        capture ? PaymentCapturedSchema : RefundIssuedSchema,
        event.data,
      );
      // POS money posts in its store's daily summary at close, not entry by entry.
      if (channel === Channel.POS) return [];
      const amount = paymentEvent?.amount;
      return [
        {
          change: "open",
          item: {
            ...base,
            exceptionId: notInLedgerId(event.eventId),
            kind: ExceptionKind.NOT_IN_LEDGER,
            subject: orderId,
            since: paymentEvent?.occurTime ? timestampDate(paymentEvent.occurTime) : event.time,
            reason: `${capture ? "capture" : "refund"} ${paymentEvent?.paymentEventId ?? ""} of ${amount?.minorUnits ?? 0n} ${amount?.currencyCode ?? ""} minor units not posted by finance`,
            sourceSystem: paymentEvent?.provider ?? "",
            orderId,
          },
        },
      ];
    }
    case JournalEntryPostedSchema.typeName: {
      const source = fromBinary(JournalEntryPostedSchema, event.data).entry?.source;
      return source?.eventId
        ? [{ change: "resolve", exceptionId: notInLedgerId(source.eventId), at: event.time }]
        : [];
    }
    case StockMovementRecordedSchema.typeName: {
      const movement = fromBinary(StockMovementRecordedSchema, event.data).movement;
      if (!movement?.occurTime || !movement.recordTime) return [];
      const happened = timestampDate(movement.occurTime);
      const late = timestampDate(movement.recordTime).getTime() - happened.getTime();
      if (late <= options.lateStockMs) return [];
      return [
        {
          change: "open",
          item: {
            ...base,
            exceptionId: `late-stock:${movement.movementId}`,
            kind: ExceptionKind.LATE_STOCK_UPDATE,
            subject: `${movement.sku}@${movement.locationId}`,
            since: happened,
            reason: `movement ${movement.movementId} recorded ${minutes(late)} after it happened${movement.sourceSystem ? ` at ${movement.sourceSystem}` : ""}`,
            sourceSystem: movement.sourceSystem,
            orderId: "",
          },
        },
      ];
    }
    case ChannelStockReportedSchema.typeName: {
      const view = fromBinary(ChannelStockReportedSchema, event.data).view;
      if (!view) return [];
      const exceptionId = `drift:${view.channelId}/${view.locationId}/${view.sku}`;
      const observed = view.observeTime ? timestampDate(view.observeTime) : event.time;
      if (!view.drifted) return [{ change: "resolve", exceptionId, at: observed }];
      return [
        {
          change: "reopen",
          item: {
            ...base,
            exceptionId,
            kind: ExceptionKind.CHANNEL_STOCK_DRIFT,
            subject: `${view.channelId}/${view.locationId}/${view.sku}`,
            since: observed,
            reason: `channel ${view.channelId} shows ${view.channelAvailable} available at ${view.locationId}, the mesh ${view.meshAvailable}`,
            sourceSystem: view.sourceSystem,
            orderId: "",
          },
        },
      ];
    }
    case ReservationExpiredSchema.typeName: {
      const { reservationId, orderId } = fromBinary(ReservationExpiredSchema, event.data);
      return [
        {
          change: "open",
          item: {
            ...base,
            exceptionId: `lapsed:${reservationId}`,
            kind: ExceptionKind.RESERVATION_LAPSED,
            subject: reservationId,
            since: event.time,
            reason: `reservation ${reservationId}${orderId ? ` of order ${orderId}` : ""} lapsed before it was confirmed`,
            sourceSystem: "",
            orderId,
          },
        },
      ];
    }
    case ReconciliationExceptionRaisedSchema.typeName: {
      const { exceptionId, settlementId, item } = fromBinary(ReconciliationExceptionRaisedSchema, event.data);
      const id = exceptionId || item?.exceptionId;
      if (!id || !item) return [];
      return [
        {
          change: "open",
          item: {
            ...base,
            exceptionId: settlementExceptionId(id),
            kind: ExceptionKind.SETTLEMENT,
            subject: item.providerReference || settlementId,
            since: event.time,
            reason: `${ReconciliationStatus[item.status]?.toLowerCase().replaceAll("_", " ") ?? "exception"}: ${item.reason}`,
            sourceSystem: settlementId,
            orderId: "",
          },
        },
      ];
    }
    case ReconciliationExceptionResolvedSchema.typeName: {
      const { exceptionId } = fromBinary(ReconciliationExceptionResolvedSchema, event.data);
      return exceptionId
        ? [{ change: "resolve", exceptionId: settlementExceptionId(exceptionId), at: event.time }]
        : [];
    }
    default:
      return [];
  }
}

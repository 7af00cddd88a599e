// Stripe webhook events as payment events of orders. Stripe signs `<t>.<raw body>` with the endpoint
// secret (Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>[,v1=…]); a signature older than the
// tolerance is refused, so a captured request cannot be replayed later. Amounts are already integer
// minor units. The order is named by `metadata.order_id` on the PaymentIntent or Charge (set it when
// creating the PaymentIntent for an order); the charge id is the provider reference settlements use.
// A dispute names only its charge: the order is the one whose capture has that charge as its provider
// reference (LookupOrder by payment reference).
// https://docs.stripe.com/webhooks#verify-manually, https://docs.stripe.com/api/events/types
import { createHmac, timingSafeEqual } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  type RecordPayoutRequest,
  RecordPayoutRequestSchema,
} from "@retail/contracts/retail/finance/v1/finance_service_pb";
import {
  type PaymentEvent,
  PaymentEventSchema,
  PaymentEventType,
  PaymentOutcome,
} from "@retail/contracts/retail/order/v1/order_pb";
import {
  type RecordPaymentEventRequest,
  RecordPaymentEventRequestSchema,
} from "@retail/contracts/retail/order/v1/order_service_pb";
import { RequestInvalid } from "@retail/platform/rpc";
import { type Json, object } from "./json-fields.js";

/** Whether a Stripe-Signature header signs the body with the secret, within the tolerance of `now`. */
export function verifyStripeSignature(
  body: Buffer,
  header: string | undefined,
  secret: string,
  options: { toleranceSeconds: number; nowSeconds: number },
): boolean {
  const parts = (header ?? "").split(",").map((p) => p.split("=", 2) as [string, string?]);
  const timestamp = Number(parts.find(([k]) => k === "t")?.[1]);
  if (!Number.isInteger(timestamp) || Math.abs(options.nowSeconds - timestamp) > options.toleranceSeconds)
    return false;
  const expected = createHmac("sha256", secret).update(`${timestamp}.`).update(body).digest();
  return parts
    .filter(([k, v]) => k === "v1" && v !== undefined && /^[0-9a-f]{64}$/.test(v))
    .some(([, v]) => timingSafeEqual(Buffer.from(v ?? "", "hex"), expected));
}

const str = (value: unknown): string => (typeof value === "string" ? value : "");

/** The payment events of a Stripe event: [] for a type the mesh does not take. */
export function stripeEventToPaymentEvents(event: Json): RecordPaymentEventRequest[] {
  const type = str(event.type);
  const subject = object(object(event.data).object);
  const orderId = str(object(subject.metadata).order_id);
  const occurTime = timestampFromMs(Number(event.created ?? 0) * 1000);
  const money = (minorUnits: unknown) => {
    if (!Number.isSafeInteger(minorUnits)) throw invalid("data.object.amount", "must be an integer amount");
    return { currencyCode: str(subject.currency).toUpperCase(), minorUnits: BigInt(minorUnits as number) };
  };
  const forOrder = () => {
    if (!orderId)
      throw invalid(
        "data.object.metadata.order_id",
        "is required: it names the order the payment belongs to",
      );
  };
  switch (type) {
    case "payment_intent.succeeded": {
      forOrder();
      const charges = (object(subject.charges).data as Json[] | undefined) ?? [];
      const chargeId = str(subject.latest_charge) || str(charges[0]?.id);
      return [
        create(RecordPaymentEventRequestSchema, {
          orderId,
          paymentEvent: {
            paymentEventId: str(event.id),
            type: PaymentEventType.CAPTURE,
            outcome: PaymentOutcome.APPROVED,
            amount: money(subject.amount_received),
            paymentMethod: str((subject.payment_method_types as unknown[] | undefined)?.[0]),
            provider: "stripe",
            providerReference: chargeId,
            occurTime,
          },
        }),
      ];
    }
    case "charge.refunded": {
      // API versions since 2022-11-15 no longer embed the refunds: those come as refund.* events.
      const embedded = object(subject.refunds).data as Json[] | undefined;
      if (!embedded) return [];
      forOrder();
      // Each refund once, by its own id: the event repeats earlier refunds of the charge.
      return embedded
        .filter((r) => str(r.status) === "succeeded")
        .map((r) => refundEvent(orderId, r, str(subject.id), money));
    }
    case "refund.created":
    case "refund.updated": {
      // The refund itself names its order (metadata set when the refund is made) and its charge.
      if (!orderId)
        throw invalid(
          "data.object.metadata.order_id",
          "is required: it names the order the refund belongs to",
        );
      if (str(subject.status) !== "succeeded") return [];
      return [refundEvent(orderId, subject, str(subject.charge), money)];
    }
    default:
      return [];
  }
}

/** Dispute events and what they are: its opening, or its end in the merchant's favour. */
const disputeEvents: Readonly<Record<string, "opened" | "ended">> = {
  "charge.dispute.created": "opened",
  "charge.dispute.closed": "ended",
  "charge.dispute.funds_reinstated": "ended",
};

/**
 * A dispute's events as payment events of the order whose payment is the dispute's charge:
 * charge.dispute.created is the chargeback of the disputed amount, keyed by the dispute's id;
 * charge.dispute.closed with status `won`, or charge.dispute.funds_reinstated, is its reversal, keyed
 * by the dispute's id and ":reversal" (both may come for one dispute: it counts once). A dispute
 * closed otherwise (`lost`: the chargeback stands; `warning_closed`: an inquiry that never became one)
 * changes nothing and is answered with why. Undefined for any other event.
 */
export function stripeDisputeToPaymentEvent(
  event: Json,
): { chargeId: string; paymentEvent: PaymentEvent } | { unchanged: string } | undefined {
  const kind = disputeEvents[str(event.type)];
  if (!kind) return undefined;
  const dispute = object(object(event.data).object);
  const status = str(dispute.status);
  if (str(event.type) === "charge.dispute.closed" && status !== "won")
    return {
      unchanged: `dispute ${str(dispute.id)} closed as ${status || "(no status)"}: the chargeback stands as it is`,
    };
  const chargeId = str(dispute.charge);
  if (!chargeId) throw invalid("data.object.charge", "is required: it names the disputed payment");
  if (!Number.isSafeInteger(dispute.amount) || (dispute.amount as number) <= 0)
    throw invalid("data.object.amount", "must be a positive integer amount");
  return {
    chargeId,
    paymentEvent: create(PaymentEventSchema, {
      paymentEventId: `${str(dispute.id) || str(event.id)}${kind === "ended" ? ":reversal" : ""}`,
      type: kind === "opened" ? PaymentEventType.CHARGEBACK : PaymentEventType.CHARGEBACK_REVERSAL,
      outcome: PaymentOutcome.APPROVED,
      amount: {
        currencyCode: str(dispute.currency).toUpperCase(),
        minorUnits: BigInt(dispute.amount as number),
      },
      provider: "stripe",
      providerReference: chargeId,
      occurTime: timestampFromMs(
        Number((kind === "opened" ? dispute.created : event.created) ?? event.created ?? 0) * 1000,
      ),
      reason: kind === "opened" ? str(dispute.reason) : `dispute won (${str(dispute.reason)})`,
    }),
  };
}

/**
 * A `payout.paid` event as the payout that reached the bank (RecordPayout, keyed by the payout id);
 * undefined for any other event. The arrival date is Stripe's `arrival_date`, as a UTC date.
 */
export function stripePayoutToRecord(
  event: Json,
  requestId: (payoutId: string) => string,
): RecordPayoutRequest | undefined {
  if (str(event.type) !== "payout.paid") return undefined;
  const payout = object(object(event.data).object);
  const payoutId = str(payout.id);
  if (!payoutId.startsWith("po_")) throw invalid("data.object.id", "must be the payout's id (po_…)");
  if (!Number.isSafeInteger(payout.amount) || (payout.amount as number) <= 0)
    throw invalid("data.object.amount", "must be a positive integer amount");
  if (!Number.isSafeInteger(payout.arrival_date))
    throw invalid("data.object.arrival_date", "must be a Unix timestamp");
  return create(RecordPayoutRequestSchema, {
    requestId: requestId(payoutId),
    provider: "stripe",
    payoutId,
    amount: { currencyCode: str(payout.currency).toUpperCase(), minorUnits: BigInt(payout.amount as number) },
    arrivalDate: new Date((payout.arrival_date as number) * 1000).toISOString().slice(0, 10),
    description: str(payout.description),
  });
}

/** A succeeded refund as the order's payment event, keyed by the refund's own id (one per refund). */
function refundEvent(
  orderId: string,
  refund: Json,
  chargeId: string,
  money: (minorUnits: unknown) => { currencyCode: string; minorUnits: bigint },
): RecordPaymentEventRequest {
  return create(RecordPaymentEventRequestSchema, {
    orderId,
    paymentEvent: {
      paymentEventId: str(refund.id),
      type: PaymentEventType.REFUND,
      outcome: PaymentOutcome.APPROVED,
      amount: money(refund.amount),
      provider: "stripe",
      providerReference: chargeId,
      occurTime: timestampFromMs(Number(refund.created ?? 0) * 1000),
      reason: str(refund.reason),
    },
  });
}

function invalid(field: string, description: string): RequestInvalid {
  return new RequestInvalid([{ field, description }]);
}

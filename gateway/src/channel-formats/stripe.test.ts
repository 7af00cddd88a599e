import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { PaymentEventType, PaymentOutcome } from "@retail/contracts/retail/order/v1/order_pb";
import { RequestInvalid } from "@retail/platform/rpc";
import { describe, expect, it } from "vitest";
import {
  stripeDisputeToPaymentEvent,
  stripeEventToPaymentEvents,
  stripePayoutToRecord,
  verifyStripeSignature,
} from "./stripe.js";

const fixtures = new URL("../../test/fixtures/stripe/", import.meta.url);
const read = (name: string) => readFileSync(new URL(name, fixtures));
const succeeded = read("event-payment-intent-succeeded.json");
const vector = JSON.parse(read("signature-test-vector.json").toString("utf8")) as {
  secret: string;
  timestamp: number;
  stripe_signature_header: string;
  also_valid_with_extra_schemes: string;
};
const withOrder = (event: Record<string, unknown>, orderId: string) => {
  const data = event.data as { object: { metadata: Record<string, string> } };
  data.object.metadata = { order_id: orderId };
  return event;
};

describe("Stripe webhooks", () => {
  it("verifies the v1 signature over timestamp and exact body, within the tolerance", () => {
    const at = { toleranceSeconds: 300, nowSeconds: vector.timestamp + 60 };
    expect(verifyStripeSignature(succeeded, vector.stripe_signature_header, vector.secret, at)).toBe(true);
    expect(verifyStripeSignature(succeeded, vector.also_valid_with_extra_schemes, vector.secret, at)).toBe(
      true,
    );
    const tampered = Buffer.from(succeeded.toString("utf8").replace("190200", "100"));
    expect(verifyStripeSignature(tampered, vector.stripe_signature_header, vector.secret, at)).toBe(false);
    expect(verifyStripeSignature(succeeded, vector.stripe_signature_header, "whsec_other", at)).toBe(false);
    const late = { toleranceSeconds: 300, nowSeconds: vector.timestamp + 301 };
    expect(verifyStripeSignature(succeeded, vector.stripe_signature_header, vector.secret, late)).toBe(false);
    expect(verifyStripeSignature(succeeded, undefined, vector.secret, at)).toBe(false);
  });

  it("makes a succeeded PaymentIntent the capture of its order, with the charge as provider reference", () => {
    const event = withOrder(JSON.parse(succeeded.toString("utf8")), "ord-1");
    const [capture, ...rest] = stripeEventToPaymentEvents(event);
    expect(rest).toEqual([]);
    expect(capture).toMatchObject({
      orderId: "ord-1",
      paymentEvent: {
        paymentEventId: "evt_1FG74XB7kbjcJ8Qq22i2BPdt",
        type: PaymentEventType.CAPTURE,
        outcome: PaymentOutcome.APPROVED,
        amount: { currencyCode: "USD", minorUnits: 190_200n },
        paymentMethod: "card",
        provider: "stripe",
        providerReference: "ch_fakefakefakefakefake0001",
      },
    });
    expect(capture?.paymentEvent?.occurTime?.seconds).toBe(1_567_874_857n);
  });

  it("makes each succeeded refund of a refunded charge one refund event, by refund id", () => {
    const data = JSON.parse(read("event-charge-refunded.data-only.json").toString("utf8"));
    const event = withOrder(
      { id: "evt_refund", type: "charge.refunded", created: 1_658_982_466, data },
      "ord-2",
    );
    expect(
      stripeEventToPaymentEvents(event).map((e) => [
        e.orderId,
        e.paymentEvent?.paymentEventId,
        e.paymentEvent?.amount?.minorUnits,
        e.paymentEvent?.providerReference,
      ]),
    ).toEqual([["ord-2", "re_3LQOJoKXBGcbgpbZ10i9Mg75", 500n, "ch_chargeid"]]);
  });

  it("asks for the order id, and takes no other event types", () => {
    expect(() => stripeEventToPaymentEvents(JSON.parse(succeeded.toString("utf8")))).toThrow(RequestInvalid);
    expect(stripeEventToPaymentEvents({ type: "customer.created", data: { object: {} } })).toEqual([]);
  });

  it("signs as Stripe documents it (a test signs its own events the same way)", () => {
    const signature = createHmac("sha256", vector.secret)
      .update(`${vector.timestamp}.`)
      .update(succeeded)
      .digest("hex");
    expect(vector.stripe_signature_header).toBe(`t=${vector.timestamp},v1=${signature}`);
  });
});

describe("Stripe refunds of the current API", () => {
  const official = JSON.parse(read("official-openapi-fixtures-subset.json").toString("utf8")) as {
    event: Record<string, unknown>;
    refund: Record<string, unknown>;
    charge: Record<string, unknown>;
  };
  const refundEvent = (type: string, refund: Record<string, unknown>) => ({
    ...official.event,
    type,
    data: { object: refund },
  });
  const refund = { ...official.refund, metadata: { order_id: "ord-9" } };

  it("takes a succeeded refund.created or refund.updated as the order's refund, keyed by the refund id", () => {
    for (const type of ["refund.created", "refund.updated"]) {
      const [recorded, ...rest] = stripeEventToPaymentEvents(refundEvent(type, refund));
      expect(rest).toEqual([]);
      expect(recorded?.orderId).toBe("ord-9");
      expect(recorded?.paymentEvent).toMatchObject({
        paymentEventId: "re_1Pgc72B7WZ01zgkWqPvrRrPE",
        type: PaymentEventType.REFUND,
        outcome: PaymentOutcome.APPROVED,
        amount: { currencyCode: "USD", minorUnits: 100n },
        provider: "stripe",
        providerReference: "ch_1PgafuB7WZ01zgkWXYmPNZs8",
      });
    }
  });

  it("waits for a pending refund to succeed, and refuses one that names no order", () => {
    expect(
      stripeEventToPaymentEvents(refundEvent("refund.created", { ...refund, status: "pending" })),
    ).toEqual([]);
    expect(() => stripeEventToPaymentEvents(refundEvent("refund.created", official.refund))).toThrow(
      RequestInvalid,
    );
  });

  it("leaves a charge.refunded without embedded refunds to the refund events", () => {
    const charge = { ...official.charge, refunds: undefined, metadata: { order_id: "ord-9" } };
    expect(
      stripeEventToPaymentEvents({
        ...official.event,
        type: "charge.refunded",
        data: { object: charge },
      }),
    ).toEqual([]);
  });
});

describe("Stripe disputes", () => {
  const disputeEvent = () => JSON.parse(read("event-charge-dispute-created.json").toString("utf8"));

  it("makes a created dispute the chargeback of the disputed amount on the disputed charge, keyed by the dispute", () => {
    expect(stripeDisputeToPaymentEvent(disputeEvent())).toMatchObject({
      chargeId: "ch_fakefakefakefakefake0001",
      paymentEvent: {
        paymentEventId: "dp_1JAyTwJSZQVUcJYgPqasUEn1",
        type: PaymentEventType.CHARGEBACK,
        outcome: PaymentOutcome.APPROVED,
        amount: { currencyCode: "USD", minorUnits: 1000n },
        provider: "stripe",
        providerReference: "ch_fakefakefakefakefake0001",
      },
    });
    // Not a dispute: left to the payment mapping.
    expect(stripeDisputeToPaymentEvent(JSON.parse(succeeded.toString("utf8")))).toBeUndefined();
  });

  it("makes a dispute won (closed as won, or funds reinstated) the reversal of its chargeback, keyed by the dispute once", () => {
    for (const [type, status] of [
      ["charge.dispute.closed", "won"],
      ["charge.dispute.funds_reinstated", "won"],
    ]) {
      const won = disputeEvent();
      won.type = type;
      won.created = 1627000000;
      won.data.object.status = status;
      expect(stripeDisputeToPaymentEvent(won)).toMatchObject({
        chargeId: "ch_fakefakefakefakefake0001",
        paymentEvent: {
          paymentEventId: "dp_1JAyTwJSZQVUcJYgPqasUEn1:reversal",
          type: PaymentEventType.CHARGEBACK_REVERSAL,
          amount: { currencyCode: "USD", minorUnits: 1000n },
          occurTime: { seconds: 1627000000n },
        },
      });
    }
  });

  it("changes nothing for a dispute closed as lost or as a warning, and says why", () => {
    for (const status of ["lost", "warning_closed"]) {
      const closed = disputeEvent();
      closed.type = "charge.dispute.closed";
      closed.data.object.status = status;
      expect(stripeDisputeToPaymentEvent(closed)).toEqual({
        unchanged: `dispute dp_1JAyTwJSZQVUcJYgPqasUEn1 closed as ${status}: the chargeback stands as it is`,
      });
    }
  });

  it("names the field a dispute it cannot use lacks", () => {
    const noCharge = disputeEvent();
    noCharge.data.object.charge = null;
    expect(() => stripeDisputeToPaymentEvent(noCharge)).toThrow(RequestInvalid);
    const noAmount = disputeEvent();
    noAmount.data.object.amount = "1000";
    try {
      stripeDisputeToPaymentEvent(noAmount);
      expect.unreachable();
    } catch (error) {
      expect((error as RequestInvalid).violations).toEqual([
        { field: "data.object.amount", description: "must be a positive integer amount" },
      ]);
    }
  });
});

describe("Stripe payouts", () => {
  const official = JSON.parse(read("official-openapi-fixtures-subset.json").toString("utf8")) as {
    event: Record<string, unknown>;
    payout: Record<string, unknown>;
  };
  const paid = (payout: Record<string, unknown>, type = "payout.paid") => ({
    ...official.event,
    type,
    data: { object: payout },
  });
  const requestId = (payoutId: string) => `stripe:${payoutId}`;

  it("takes payout.paid as the payout that reached the bank, keyed by the payout id, on its arrival date", () => {
    const record = stripePayoutToRecord(paid(official.payout), requestId);
    expect(record).toMatchObject({
      requestId: "stripe:po_1Pgc79B7WZ01zgkWu1KToYf4",
      provider: "stripe",
      payoutId: "po_1Pgc79B7WZ01zgkWu1KToYf4",
      amount: { currencyCode: "USD", minorUnits: 1100n },
      // arrival_date 1234567890 is 2009-02-13T23:31:30Z.
      arrivalDate: "2009-02-13",
      description: "STRIPE PAYOUT",
    });
    expect(stripePayoutToRecord(paid(official.payout, "payout.created"), requestId)).toBeUndefined();
  });

  it("refuses a payout.paid it cannot post, naming the field", () => {
    const refusal = (payout: Record<string, unknown>) => {
      try {
        stripePayoutToRecord(paid({ ...official.payout, ...payout }), requestId);
      } catch (error) {
        return (error as RequestInvalid).violations;
      }
      return [];
    };
    expect(refusal({ amount: -5 })).toEqual([
      { field: "data.object.amount", description: "must be a positive integer amount" },
    ]);
    expect(refusal({ id: "tr_1" })).toEqual([
      { field: "data.object.id", description: "must be the payout's id (po_…)" },
    ]);
    expect(refusal({ arrival_date: "tomorrow" })).toEqual([
      { field: "data.object.arrival_date", description: "must be a Unix timestamp" },
    ]);
  });
});

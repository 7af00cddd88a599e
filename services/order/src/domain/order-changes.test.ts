import { create } from "@bufbuild/protobuf";
import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import {
  OrderAcceptedSchema,
  RefundBasis,
  type RefundIssued,
} from "@retail/contracts/retail/order/v1/order_events_pb";
import {
  FulfillmentType,
  LineStatus,
  type Order,
  OrderSchema,
  OrderStatus,
  PaymentEventSchema,
  PaymentEventType,
  PaymentOutcome,
  ShipmentSchema,
} from "@retail/contracts/retail/order/v1/order_pb";
import { describe, expect, it } from "vitest";
import { RuleViolated } from "./errors.js";
import { money } from "./money.js";
import { evolve, type OrderEvent } from "./order.js";
import { acknowledge, cancelLines, lineAmounts, recordPayment, shipLines } from "./order-changes.js";

const usd = (n: bigint) => money("USD", n);
let version = 1;
function accepted(): Order {
  version = 1;
  const order = create(OrderSchema, {
    orderId: "o1",
    channel: Channel.MARKETPLACE,
    status: OrderStatus.ACCEPTED,
    lines: [
      {
        lineId: "1",
        sku: "A",
        quantity: 3n,
        unitPrice: usd(1000n),
        discount: usd(0n),
        tax: usd(300n),
        lineTotal: usd(3300n),
        fulfillmentType: FulfillmentType.SHIP,
        status: LineStatus.ACCEPTED,
      },
      {
        lineId: "2",
        sku: "B",
        quantity: 1n,
        unitPrice: usd(500n),
        discount: usd(0n),
        tax: usd(50n),
        lineTotal: usd(550n),
        fulfillmentType: FulfillmentType.SHIP,
        status: LineStatus.ACCEPTED,
      },
    ],
    taxTotal: usd(350n),
    grandTotal: usd(3850n),
    capturedTotal: usd(0n),
    refundedTotal: usd(0n),
  });
  return evolve(undefined, create(OrderAcceptedSchema, { order }), version, new Date());
}
const apply = (order: Order, events: OrderEvent[]) =>
  events.reduce((o, e) => evolve(o, e, ++version, new Date()), order);
const payment = (type: PaymentEventType, outcome: PaymentOutcome, amount: bigint) =>
  create(PaymentEventSchema, { paymentEventId: `p${version}`, type, outcome, amount: usd(amount) });
const ruleOf = (f: () => unknown) => {
  try {
    f();
  } catch (error) {
    if (error instanceof RuleViolated) return error.rule;
    throw error;
  }
  return undefined;
};

describe("order rules", () => {
  it("derives line and order status from partial shipments and cancellations", () => {
    let order = accepted();
    order = apply(
      order,
      shipLines(
        order,
        create(ShipmentSchema, { shipmentId: "s", lines: [{ lineId: "1", quantity: 2n }] }),
        new Date(),
      ),
    );
    expect(order.lines[0]?.status).toBe(LineStatus.PARTIALLY_SHIPPED);
    order = apply(
      order,
      cancelLines(
        order,
        [
          { lineId: "1", quantity: 1n },
          { lineId: "2", quantity: 1n },
        ],
        "oos",
      ),
    );
    expect(order.lines.map((l) => l.status)).toEqual([LineStatus.SHIPPED, LineStatus.CANCELLED]);
    expect(order.status).toBe(OrderStatus.FULFILLED);
    expect(ruleOf(() => cancelLines(order, [{ lineId: "2", quantity: 1n }], "again"))).toBe("LINE_NOT_OPEN");
  });

  it("never refunds more than was captured, nor captures more than the order total", () => {
    let order = accepted();
    expect(
      ruleOf(() => recordPayment(order, payment(PaymentEventType.REFUND, PaymentOutcome.APPROVED, 1n))),
    ).toBe("REFUND_EXCEEDS_CAPTURED");
    order = apply(
      order,
      recordPayment(order, payment(PaymentEventType.CAPTURE, PaymentOutcome.APPROVED, 3850n)),
    );
    expect(
      ruleOf(() => recordPayment(order, payment(PaymentEventType.CAPTURE, PaymentOutcome.APPROVED, 1n))),
    ).toBe("CAPTURE_EXCEEDS_ORDER_TOTAL");
    const refund = recordPayment(order, payment(PaymentEventType.REFUND, PaymentOutcome.APPROVED, 385n));
    expect(refund[0]?.$typeName).toBe("retail.order.v1.RefundIssued");
    // Without lines, the tax share is the order's: 385 x 350 / 3850 = 35.
    expect(refund[0]?.$typeName === "retail.order.v1.RefundIssued" && refund[0].taxRefunded?.minorUnits).toBe(
      35n,
    );
  });

  it("rejects on a declined authorization only while nothing was delivered", () => {
    const order = accepted();
    const declined = recordPayment(
      order,
      payment(PaymentEventType.AUTHORIZATION, PaymentOutcome.DECLINED, 3850n),
    );
    expect(declined.map((e) => e.$typeName)).toEqual([
      "retail.order.v1.PaymentEventRecorded",
      "retail.order.v1.OrderRejected",
    ]);
    const shipped = apply(
      order,
      shipLines(
        order,
        create(ShipmentSchema, { shipmentId: "s", lines: [{ lineId: "2", quantity: 1n }] }),
        new Date(),
      ),
    );
    expect(
      recordPayment(shipped, payment(PaymentEventType.AUTHORIZATION, PaymentOutcome.DECLINED, 1n)).map(
        (e) => e.$typeName,
      ),
    ).toEqual(["retail.order.v1.PaymentEventRecorded"]);
  });

  it("holds shipments while an authorization is under review", () => {
    let order = accepted();
    order = apply(
      order,
      recordPayment(order, payment(PaymentEventType.AUTHORIZATION, PaymentOutcome.PENDING_REVIEW, 3850n)),
    );
    const shipment = create(ShipmentSchema, { shipmentId: "s", lines: [{ lineId: "2", quantity: 1n }] });
    expect(ruleOf(() => shipLines(order, shipment, new Date()))).toBe("PAYMENT_ON_HOLD");
    order = apply(
      order,
      recordPayment(order, payment(PaymentEventType.AUTHORIZATION, PaymentOutcome.APPROVED, 3850n)),
    );
    expect(shipLines(order, shipment, new Date())).toHaveLength(1);
  });

  it("acknowledges a marketplace order once", () => {
    let order = accepted();
    order = apply(order, acknowledge(order));
    expect(order.marketplaceAcknowledged).toBe(true);
    expect(acknowledge(order)).toEqual([]);
  });
});

describe("refund basis", () => {
  it("says whether a refund is for goods delivered by then, from the order's own history", () => {
    let order = accepted();
    order = apply(
      order,
      recordPayment(order, payment(PaymentEventType.CAPTURE, PaymentOutcome.APPROVED, 3850n)),
    );
    const before = recordPayment(order, payment(PaymentEventType.REFUND, PaymentOutcome.APPROVED, 500n));
    expect((before[0] as RefundIssued).basis).toBe(RefundBasis.UNDELIVERED);
    order = apply(order, before);
    const shipment = create(ShipmentSchema, { shipmentId: "s", lines: [{ lineId: "2", quantity: 1n }] });
    order = apply(order, shipLines(order, shipment, new Date()));
    // Delivered 5.50 (line 2 with its tax); 5.00 refunded already: 0.50 more fits, 0.51 does not.
    const fits = recordPayment(order, payment(PaymentEventType.REFUND, PaymentOutcome.APPROVED, 50n));
    expect((fits[0] as RefundIssued).basis).toBe(RefundBasis.DELIVERED);
    const over = recordPayment(order, payment(PaymentEventType.REFUND, PaymentOutcome.APPROVED, 51n));
    expect((over[0] as RefundIssued).basis).toBe(RefundBasis.UNDELIVERED);
  });
});

describe("amounts of a line shipped in parts", () => {
  it("recognises each part's net, discount and tax from one allocation, adding up to the line exactly", () => {
    const order = create(OrderSchema, {
      orderId: "o2",
      grandTotal: usd(0n),
      lines: [
        { lineId: "1", sku: "A", quantity: 2n, unitPrice: usd(1000n), discount: usd(1n), tax: usd(177n) },
      ],
    });
    const line = order.lines[0];
    if (!line) throw new Error("no line");
    const parts = [lineAmounts(order, line, 0n, 1n), lineAmounts(order, line, 1n, 1n)];
    for (const part of parts) {
      // Each part's net and discount make up exactly its gross (one unit at 10.00).
      expect((part.netAmount?.minorUnits ?? 0n) + (part.discount?.minorUnits ?? 0n)).toBe(1000n);
    }
    const sum = (pick: (p: (typeof parts)[number]) => bigint | undefined) =>
      parts.reduce((s, p) => s + (pick(p) ?? 0n), 0n);
    expect(sum((p) => p.netAmount?.minorUnits)).toBe(1999n);
    expect(sum((p) => p.discount?.minorUnits)).toBe(1n);
    expect(sum((p) => p.tax?.minorUnits)).toBe(177n);
    expect(parts.map((p) => p.tax?.minorUnits)).toEqual([89n, 88n]);
  });
});

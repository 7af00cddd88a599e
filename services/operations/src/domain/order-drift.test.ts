import { create } from "@bufbuild/protobuf";
import { ChannelOrderViewSchema, ExceptionKind } from "@retail/contracts/retail/operations/v1/operations_pb";
import { OrderStatus } from "@retail/contracts/retail/order/v1/order_pb";
import { describe, expect, it } from "vitest";
import { compareView, driftChange, type KeptView, stageOf } from "./order-drift.js";

const view = (status: OrderStatus) =>
  create(ChannelOrderViewSchema, { channelId: "web", orderId: "o-1", sourceSystem: "shopify-web", status });
const kept = (status: OrderStatus, extra: Partial<KeptView> = {}): KeptView => ({
  view: view(status),
  divergedSince: undefined,
  raised: false,
  ...extra,
});
const at = (ms: number) => new Date(Date.UTC(2026, 10, 28) + ms);
const grace = 60_000;

describe("order drift", () => {
  it("compares fulfilment stages: returns are fulfilled to a storefront, pending is open", () => {
    expect(stageOf(OrderStatus.RETURNED)).toBe(stageOf(OrderStatus.FULFILLED));
    expect(stageOf(OrderStatus.PARTIALLY_RETURNED)).toBe("fulfilled");
    expect(stageOf(OrderStatus.PENDING)).toBe(stageOf(OrderStatus.ACCEPTED));
    expect(stageOf(OrderStatus.PARTIALLY_FULFILLED)).not.toBe(stageOf(OrderStatus.FULFILLED));
    expect(stageOf(OrderStatus.CANCELLED)).not.toBe(stageOf(OrderStatus.REJECTED));
  });

  it("remembers when a difference began and raises it once, only after the grace period", () => {
    const first = compareView(kept(OrderStatus.ACCEPTED), OrderStatus.FULFILLED, at(0), grace);
    expect(first.outcome).toBeUndefined();
    expect(first.kept).toMatchObject({ divergedSince: at(0), raised: false });
    expect(first.kept.view.meshStatus).toBe(OrderStatus.FULFILLED);
    expect(compareView(first.kept, OrderStatus.FULFILLED, at(grace - 1), grace).outcome).toBeUndefined();
    const due = compareView(first.kept, OrderStatus.FULFILLED, at(grace), grace);
    expect(due.outcome).toBe("detected");
    expect(due.kept).toMatchObject({ divergedSince: at(0), raised: true });
    expect(driftChange(due, at(grace))).toEqual({
      change: "reopen",
      item: expect.objectContaining({
        exceptionId: "order-drift:web/o-1",
        kind: ExceptionKind.CHANNEL_ORDER_DRIFT,
        since: at(0),
        orderId: "o-1",
        reason: "channel web shows the order ACCEPTED (shopify-web), the mesh FULFILLED",
      }),
    });
    // Raised once: comparing again changes nothing.
    const again = compareView(due.kept, OrderStatus.FULFILLED, at(2 * grace), grace);
    expect(again.outcome).toBeUndefined();
    expect(driftChange(again, at(2 * grace))).toBeUndefined();
  });

  it("resolves a raised difference when the two agree again, and forgets an unraised one quietly", () => {
    const raised = kept(OrderStatus.ACCEPTED, { divergedSince: at(0), raised: true });
    const caughtUp = compareView(
      { ...raised, view: view(OrderStatus.FULFILLED) },
      OrderStatus.RETURNED,
      at(5),
      grace,
    );
    expect(caughtUp.outcome).toBe("resolved");
    expect(caughtUp.kept).toMatchObject({ divergedSince: undefined, raised: false });
    expect(driftChange(caughtUp, at(5))).toEqual({
      change: "resolve",
      exceptionId: "order-drift:web/o-1",
      at: at(5),
    });
    const brief = kept(OrderStatus.ACCEPTED, { divergedSince: at(0) });
    expect(compareView(brief, OrderStatus.ACCEPTED, at(5), grace)).toMatchObject({
      outcome: undefined,
      kept: { divergedSince: undefined, raised: false },
    });
  });
});

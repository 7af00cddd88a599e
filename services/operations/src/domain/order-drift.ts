// Order-state drift: what a channel shows of an order against the mesh's order, compared by fulfilment
// stage (a storefront knows "unfulfilled", "partial", "fulfilled" and "cancelled", not our returns).
// A difference becomes an item of the exception list, and an event, only once it has lasted the grace
// period: a channel learns of a shipment a little after the mesh does.

import { create } from "@bufbuild/protobuf";
import {
  type ChannelOrderView,
  ChannelOrderViewSchema,
  ExceptionKind,
} from "@retail/contracts/retail/operations/v1/operations_pb";
import { OrderStatus } from "@retail/contracts/retail/order/v1/order_pb";
import type { ExceptionChange } from "./exceptions.js";

type Stage = "open" | "partial" | "fulfilled" | "cancelled" | "rejected" | "unknown";

/** The fulfilment stage of a status, which is what a channel and the mesh are compared on. */
export function stageOf(status: OrderStatus): Stage {
  switch (status) {
    case OrderStatus.PENDING:
    case OrderStatus.ACCEPTED:
      return "open";
    case OrderStatus.PARTIALLY_FULFILLED:
      return "partial";
    case OrderStatus.FULFILLED:
    case OrderStatus.PARTIALLY_RETURNED:
    case OrderStatus.RETURNED:
      return "fulfilled";
    case OrderStatus.CANCELLED:
      return "cancelled";
    case OrderStatus.REJECTED:
      return "rejected";
    default:
      return "unknown";
  }
}

/** A view as operations keeps it: the channel's and the mesh's side, and whether a drift was raised. */
export interface KeptView {
  readonly view: ChannelOrderView;
  /** Since when the two differ (undefined while they agree). */
  readonly divergedSince: Date | undefined;
  /** Whether the difference has been raised (listed and published) and not yet ended. */
  readonly raised: boolean;
}

export interface Comparison {
  readonly kept: KeptView;
  /** "detected": the difference has lasted the grace period; "resolved": a raised one ended. */
  readonly outcome: "detected" | "resolved" | undefined;
}

export const driftId = (view: Pick<ChannelOrderView, "channelId" | "orderId">) =>
  `order-drift:${view.channelId}/${view.orderId}`;

const statusName = (status: OrderStatus) => OrderStatus[status] ?? String(status);

/** Compares a kept view with the mesh's status of its order, now. */
export function compareView(kept: KeptView, meshStatus: OrderStatus, now: Date, graceMs: number): Comparison {
  const view = create(ChannelOrderViewSchema, { ...kept.view, meshStatus });
  if (stageOf(view.status) === stageOf(meshStatus))
    return {
      kept: { view, divergedSince: undefined, raised: false },
      outcome: kept.raised ? "resolved" : undefined,
    };
  const divergedSince = kept.divergedSince ?? now;
  const due = !kept.raised && now.getTime() - divergedSince.getTime() >= graceMs;
  return { kept: { view, divergedSince, raised: kept.raised || due }, outcome: due ? "detected" : undefined };
}

/** The exception-list change of a comparison's outcome. */
export function driftChange(comparison: Comparison, now: Date): ExceptionChange | undefined {
  const { view, divergedSince } = comparison.kept;
  if (comparison.outcome === "resolved") return { change: "resolve", exceptionId: driftId(view), at: now };
  if (comparison.outcome !== "detected" || !divergedSince) return undefined;
  return {
    change: "reopen",
    item: {
      exceptionId: driftId(view),
      kind: ExceptionKind.CHANNEL_ORDER_DRIFT,
      subject: `${view.channelId}/${view.orderId}`,
      since: divergedSince,
      reason: `channel ${view.channelId} shows the order ${statusName(view.status)}${view.sourceSystem ? ` (${view.sourceSystem})` : ""}, the mesh ${statusName(view.meshStatus)}`,
      eventId: "",
      correlationId: "",
      sourceSystem: view.sourceSystem,
      orderId: view.orderId,
    },
  };
}

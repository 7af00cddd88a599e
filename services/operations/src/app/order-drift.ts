import { create } from "@bufbuild/protobuf";
import {
  OrderDriftDetectedSchema,
  OrderDriftResolvedSchema,
} from "@retail/contracts/retail/operations/v1/operations_events_pb";
import type { ChannelOrderView } from "@retail/contracts/retail/operations/v1/operations_pb";
import { event } from "@retail/platform/store";
import { compareView, driftChange, driftId } from "../domain/order-drift.js";
import type { OperationsDeps, StoredView } from "./ports.js";

/**
 * Compares a kept view with the order as the mesh has it now; a difference that has lasted the grace
 * period is raised (its event, then its item of the exception list), and a raised one that ended is
 * resolved the same way. Undefined when the order is not in the mesh (yet) or the view changed while
 * it was compared: it is compared again at the next sweep.
 */
async function compareOne(deps: OperationsDeps, stored: StoredView): Promise<ChannelOrderView | undefined> {
  const status = await deps.orderStatuses.statusOf(stored.view.orderId);
  if (status === undefined) return undefined;
  const now = deps.clock.now();
  const comparison = compareView(stored, status, now, deps.driftGraceMs);
  let version = stored.version;
  if (comparison.outcome) {
    const schema = comparison.outcome === "detected" ? OrderDriftDetectedSchema : OrderDriftResolvedSchema;
    // Appended, or another instance appended it first: either way the stream has moved on by one.
    await deps.driftEvents.append(
      driftId(stored.view),
      version,
      event(schema, create(schema, { view: comparison.kept.view })),
    );
    version += 1;
  }
  if (!(await deps.channelViews.saveComparison(stored, comparison.kept, version, now))) return undefined;
  const change = driftChange(comparison, now);
  if (change) await deps.exceptions.apply(change);
  return comparison.kept.view;
}

/** Keeps what a channel shows of an order and compares it at once; the view as kept (and compared). */
export async function recordChannelView(
  deps: OperationsDeps,
  view: ChannelOrderView,
): Promise<ChannelOrderView> {
  const stored = await deps.channelViews.record(view);
  try {
    return (await compareOne(deps, stored)) ?? stored.view;
  } catch (error) {
    // Kept and due: the next sweep compares it (the order service may be away a moment).
    deps.logger.warn({ err: error, orderId: view.orderId }, "channel view kept, not compared yet");
    return stored.view;
  }
}

/**
 * One sweep: compares the views newly reported, those that differ, and those of orders that changed
 * since the last sweep. How many were compared.
 */
export async function compareViews(deps: OperationsDeps, limit = 500): Promise<number> {
  const orderIds = [...deps.changedOrders];
  deps.changedOrders.clear();
  let candidates: StoredView[];
  try {
    candidates = await deps.channelViews.candidates({ orderIds, limit });
  } catch (error) {
    for (const id of orderIds) deps.changedOrders.add(id);
    throw error;
  }
  let compared = 0;
  for (const stored of candidates) {
    try {
      if (await compareOne(deps, stored)) compared++;
    } catch (error) {
      // This view waits for the next sweep (its order's change is remembered); the others go on.
      deps.changedOrders.add(stored.view.orderId);
      deps.logger.warn({ err: error, orderId: stored.view.orderId }, "channel view not compared");
    }
  }
  return compared;
}

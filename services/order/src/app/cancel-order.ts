import { create } from "@bufbuild/protobuf";
import { OrderLineResourcedSchema } from "@retail/contracts/retail/order/v1/order_events_pb";
import type { Order } from "@retail/contracts/retail/order/v1/order_pb";
import type { RequestRef } from "@retail/platform/store";
import { UnknownLine } from "../domain/errors.js";
import type { OrderEvent } from "../domain/order.js";
import { cancelLines, type LineQuantity } from "../domain/order-changes.js";
import { chooseResourceLocation } from "../domain/resourcing.js";
import { changeOrder, type KeepPlan } from "./change-order.js";
import type { OrderDeps } from "./ports.js";

export interface CancelOrder {
  readonly request: RequestRef;
  readonly orderId: string;
  readonly lines: readonly LineQuantity[];
  readonly reason: string;
  /** The lines could not be picked where they were held: try another location before cancelling. */
  readonly resource: boolean;
}

/**
 * Cancels lines (or the whole order). With `resource`, each named line is first moved to another
 * location that has the stock; only lines no location can supply are cancelled. Inventory releases
 * cancelled quantities when it sees the cancellation.
 */
export function cancelOrder(deps: OrderDeps, command: CancelOrder): Promise<Order> {
  return changeOrder(deps, {
    scope: "order.CancelOrder",
    request: command.request,
    orderId: command.orderId,
    ...(command.resource ? { prepare: (order: Order, keep) => moveLines(deps, command, order, keep) } : {}),
    decide(order, prepared) {
      if (!command.resource) return cancelLines(order, command.lines, command.reason);
      const moved = prepared as Map<string, Resourced>;
      const events: OrderEvent[] = [];
      const unfilled: LineQuantity[] = [];
      for (const wanted of command.lines) {
        const move = moved.get(wanted.lineId);
        if (move)
          events.push(
            create(OrderLineResourcedSchema, { orderId: order.orderId, lineId: wanted.lineId, ...move }),
          );
        else unfilled.push(wanted);
      }
      return unfilled.length > 0 ? [...events, ...cancelLines(order, unfilled, command.reason)] : events;
    },
  });
}

type Resourced = { fromLocationId: string; toLocationId: string; reservationId: string };

/** A line's move as kept in the plan store: a plain document (the quantity as a decimal string). */
type PlannedMove = {
  lineId: string;
  reservationId: string;
  fromLocationId: string;
  remaining: string;
  to: string;
};

/**
 * Moves each named line a location could not pick to another location that has the stock. The plan
 * (where each line is held, where it could go: decided in the domain) is made once per cancel request
 * and kept; every attempt of the request carries it out with request ids derived from the cancel
 * request, so a retry that comes while the first attempt is still moving, or after it released the old
 * hold and died, moves the same lines to the same places, and nothing twice. Lines that cannot move
 * are left out.
 */
async function moveLines(
  deps: OrderDeps,
  command: CancelOrder,
  order: Order,
  keep: KeepPlan,
): Promise<Map<string, Resourced>> {
  const plan = await keep(async () => {
    const moves: PlannedMove[] = [];
    for (const [i, wanted] of command.lines.entries()) {
      const line = order.lines.find((l) => l.lineId === wanted.lineId);
      if (!line) throw new UnknownLine(`lines[${i}].line_id`, wanted.lineId);
      const hold = await deps.stock.holdOf(order, line.lineId);
      if (!hold) continue;
      const to = chooseResourceLocation(hold, await deps.stock.availability(line.sku, order.channelId));
      moves.push({
        lineId: line.lineId,
        reservationId: hold.reservationId,
        fromLocationId: hold.locationId,
        remaining: hold.remaining.toString(),
        to: to ?? "",
      });
    }
    return moves;
  });
  const moved = new Map<string, Resourced>();
  for (const move of plan) {
    const line = order.lines.find((l) => l.lineId === move.lineId);
    if (!line) continue;
    const hold = {
      reservationId: move.reservationId,
      locationId: move.fromLocationId,
      remaining: BigInt(move.remaining),
    };
    const reservationId = await deps.stock.move(command.request.id, order, line, hold, move.to || undefined);
    if (move.to && reservationId)
      moved.set(line.lineId, { fromLocationId: move.fromLocationId, toLocationId: move.to, reservationId });
  }
  return moved;
}

import { MovementType } from "@retail/contracts/retail/inventory/v1/inventory_pb";
import { type CommitRequest, ConcurrencyConflict, type NewEvent, requestKey } from "@retail/platform/store";
import { emptyPosition, type Movement, type PositionState } from "../domain/stock-position.js";
import { applyMovement, type MovementDeps, movementRequest, planMovement } from "./apply-movement.js";

/** Movement types a caller records directly; reservation movements come from the reservation use cases. */
export const recordableTypes: ReadonlySet<MovementType> = new Set([
  MovementType.GOODS_RECEIPT,
  MovementType.PICK_CONFIRMATION,
  MovementType.SHIPMENT,
  MovementType.RETURN_TO_SELLABLE,
  MovementType.RETURN_TO_DAMAGED,
  MovementType.TRANSFER_OUT,
  MovementType.TRANSFER_IN,
  MovementType.CYCLE_COUNT,
  MovementType.DAMAGE,
  MovementType.WRITE_OFF,
  MovementType.SAFETY_STOCK_SET,
]);

/**
 * Records a validated movement once per movement id. A transfer out also raises the in-transit
 * quantity at the receiving location (the same ledger entry, appended to both positions): its intent
 * is kept across the two appends, so a crash between them is completed by the transfer sweep.
 */
export async function recordMovement(
  deps: MovementDeps,
  movement: Movement,
): Promise<{ position: PositionState; applied: boolean }> {
  const request = ledgerRequest(movement);
  const transfer = movement.type === MovementType.TRANSFER_OUT && movement.counterpartLocationId !== "";
  if (transfer) await deps.transfers.begin(movement);
  const result = await applyMovement(deps, movement, movement.locationId, request);
  if (transfer) {
    await applyMovement(deps, movement, movement.counterpartLocationId, {
      key: `${request.key}@${movement.counterpartLocationId}`,
      fingerprint: request.fingerprint,
    });
    await deps.transfers.end(movement.movementId);
  }
  return result;
}

/**
 * Completes transfers left between their two appends for longer than `graceMs` (a crash, a database
 * away): recording the movement again replays the first append and makes the second. A transfer the
 * rules refuse now (its first append never happened and stock has gone) is dropped and logged.
 */
export async function completePendingTransfers(
  deps: MovementDeps,
  options: { graceMs: number },
): Promise<number> {
  let completed = 0;
  const cutoff = new Date(deps.clock.now().getTime() - options.graceMs);
  for (const movement of await deps.transfers.olderThan(cutoff)) {
    try {
      await recordMovement(deps, movement);
      completed++;
    } catch (error) {
      // Domain and store errors carry a kind; a conflict is a race, not a refusal, and is tried again.
      const refused = error instanceof Error && "kind" in error && !(error instanceof ConcurrencyConflict);
      if (!refused) {
        deps.logger.warn(
          { movementId: movement.movementId, err: error },
          "transfer not completed; next sweep tries again",
        );
        continue;
      }
      deps.logger.error(
        { movementId: movement.movementId, err: error },
        "interrupted transfer refused by the rules; dropped",
      );
      await deps.transfers.end(movement.movementId);
    }
  }
  return completed;
}

/** The outcome of one movement of a batch: its position, or the error that refused it. */
export type BatchOutcome = { position: PositionState; applied: boolean } | Error;

/**
 * Records a batch: the first entry of positions nobody has seen yet goes in bulk (an initial stock
 * load is mostly that), everything else one by one, movements of one position in the order given and
 * different positions side by side. Each movement succeeds or fails on its own.
 */
export async function recordMovementBatch(
  deps: MovementDeps,
  movements: readonly Movement[],
  concurrency = 8,
): Promise<BatchOutcome[]> {
  const outcomes = new Array<BatchOutcome>(movements.length);
  const byPosition = new Map<string, number[]>();
  movements.forEach((m, i) => {
    const key = `${m.sku}@${m.locationId}`;
    byPosition.set(key, [...(byPosition.get(key) ?? []), i]);
  });

  const bulk: Array<{ index: number; after: PositionState; events: NewEvent[]; request: CommitRequest }> = [];
  const oneByOne: number[][] = [];
  for (const indexes of byPosition.values()) {
    const [only] = indexes;
    const movement = only === undefined ? undefined : movements[only];
    if (indexes.length === 1 && only !== undefined && movement && isFirstEntry(deps, movement)) {
      try {
        const { after, events } = planMovement(
          deps,
          emptyPosition(movement.sku, movement.locationId),
          movement,
          movement.locationId,
        );
        bulk.push({ index: only, after, events, request: ledgerRequest(movement) });
        continue;
      } catch {
        // Refused on an empty position: the one-by-one path gives the exact error.
      }
    }
    oneByOne.push(indexes);
  }
  for (let start = 0; start < bulk.length; start += 500) {
    const chunk = bulk.slice(start, start + 500);
    const results = await deps.ledger.appendFirst(chunk);
    results.forEach((result, k) => {
      const item = chunk[k];
      if (!item) return;
      if (result instanceof ConcurrencyConflict) oneByOne.push([item.index]);
      else if (result instanceof Error) outcomes[item.index] = result;
      else {
        deps.readModel.apply(result.position);
        outcomes[item.index] = { position: result.position, applied: !result.replayed };
      }
    });
  }
  const worker = async () => {
    for (let group = oneByOne.shift(); group; group = oneByOne.shift()) {
      for (const i of group) {
        outcomes[i] = await recordMovement(deps, movements[i] as Movement).catch((error: unknown) =>
          error instanceof Error ? error : new Error(String(error)),
        );
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return outcomes;
}

function isFirstEntry(deps: MovementDeps, movement: Movement): boolean {
  const transfer = movement.type === MovementType.TRANSFER_OUT || movement.type === MovementType.TRANSFER_IN;
  return !transfer && deps.readModel.get(movement.sku, movement.locationId) === undefined;
}

/** A recorded movement is one request per movement id, whoever reports it. */
function ledgerRequest(movement: Movement): CommitRequest {
  return movementRequest(requestKey("inventory.movement", movement.movementId), movement);
}

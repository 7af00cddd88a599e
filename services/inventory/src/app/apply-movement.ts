import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import {
  AvailabilityChangedSchema,
  ReservationShortfallFlaggedSchema,
  StockMovementRecordedSchema,
} from "@retail/contracts/retail/inventory/v1/inventory_events_pb";
import {
  type StockMovement,
  StockMovementSchema,
  type StockPosition,
  StockPositionSchema,
} from "@retail/contracts/retail/inventory/v1/inventory_pb";
import {
  type CommitRequest,
  ConcurrencyConflict,
  event,
  fingerprint,
  type NewEvent,
  retryOnConflict,
} from "@retail/platform/store";
import { channelAvailable } from "../domain/channels.js";
import {
  availableOf,
  decideMovement,
  type Movement,
  type MovementDecision,
  type PositionState,
} from "../domain/stock-position.js";
import type { AvailabilityView, Catalog, Clock, Logger, PendingTransfers, StockLedger } from "./ports.js";

export interface MovementDeps {
  readonly ledger: StockLedger;
  readonly catalog: Catalog;
  readonly readModel: AvailabilityView;
  readonly transfers: PendingTransfers;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Who is acting, recorded on every ledger entry (the RPC's caller, an event's source, or this service). */
  readonly caller: () => string;
  /** Serialises writers of one stream inside this instance. */
  readonly lock: <T>(key: string, work: () => Promise<T>) => Promise<T>;
}

export function toStockPosition(state: PositionState, updateTime?: Date): StockPosition {
  return create(StockPositionSchema, {
    sku: state.sku,
    locationId: state.locationId,
    onHand: BigInt(state.onHand),
    reserved: BigInt(state.reserved),
    inTransit: BigInt(state.inTransit),
    damaged: BigInt(state.damaged),
    safetyStock: BigInt(state.safetyStock),
    available: BigInt(availableOf(state)),
    ledgerVersion: BigInt(state.version),
    ...(updateTime ? { updateTime: timestampFromDate(updateTime) } : {}),
  });
}

function availabilityEvents(before: PositionState, after: PositionState, catalog: Catalog): NewEvent[] {
  const figures = [
    { channelId: "", channel: Channel.UNSPECIFIED, was: availableOf(before), now: availableOf(after) },
  ];
  for (const rule of catalog.rulesFeeding(after.locationId)) {
    figures.push({
      channelId: rule.channelId,
      channel: rule.channel,
      was: channelAvailable(rule, availableOf(before)),
      now: channelAvailable(rule, availableOf(after)),
    });
  }
  return figures
    .filter((f) => f.was !== f.now)
    .map((f) =>
      event(
        AvailabilityChangedSchema,
        create(AvailabilityChangedSchema, {
          availability: {
            sku: after.sku,
            locationId: after.locationId,
            channel: f.channel,
            channelId: f.channelId,
            available: BigInt(f.now),
            ledgerVersion: BigInt(after.version),
          },
          previousAvailable: BigInt(f.was),
        }),
      ),
    );
}

/** A movement as its reporter asked for it: no ledger figures, no time or actor of recording. */
export function askedMovement(movement: Movement): StockMovement {
  return create(StockMovementSchema, {
    movementId: movement.movementId,
    type: movement.type,
    sku: movement.sku,
    locationId: movement.locationId,
    quantity: BigInt(movement.quantity),
    counterpartLocationId: movement.counterpartLocationId,
    reservationId: movement.reservationId,
    lineId: movement.lineId,
    reason: movement.reason,
    sourceSystem: movement.sourceSystem ?? "",
    ...(movement.occurTime ? { occurTime: timestampFromDate(movement.occurTime) } : {}),
  });
}

/**
 * The ledger request of a movement under `key`: its fingerprint is the movement as asked, so a repeat
 * with the same key and other figures is refused rather than taken for a retry.
 */
export function movementRequest(key: string, movement: Movement): CommitRequest {
  return { key, fingerprint: fingerprint(StockMovementSchema, askedMovement(movement)) };
}

/** What a movement writes: the decision, the position after the whole commit, and the commit's events. */
export function planMovement(
  deps: Pick<MovementDeps, "catalog" | "clock" | "caller">,
  before: PositionState,
  movement: Movement,
  atLocation: string,
): { decision: MovementDecision; after: PositionState; events: NewEvent[] } {
  const decision = decideMovement(before, movement);
  const recordTime = deps.clock.now();
  const consequences: NewEvent[] = availabilityEvents(before, decision.after, deps.catalog);
  if (decision.newShortfall) {
    consequences.push(
      event(
        ReservationShortfallFlaggedSchema,
        create(ReservationShortfallFlaggedSchema, {
          sku: movement.sku,
          locationId: atLocation,
          shortfall: BigInt(decision.newShortfall.units),
          reservationIds: [...decision.newShortfall.reservationIds],
        }),
      ),
    );
  }
  // The ledger version of a position is its stream's version after the whole commit.
  const after = { ...decision.after, version: before.version + 1 + consequences.length };
  const recorded = create(StockMovementRecordedSchema, {
    movement: {
      ...askedMovement(movement),
      recordedBy: deps.caller(),
      onHandDelta: BigInt(decision.onHandDelta),
      recordTime: timestampFromDate(recordTime),
    },
    position: toStockPosition(after, recordTime),
  });
  return { decision, after, events: [event(StockMovementRecordedSchema, recorded), ...consequences] };
}

/**
 * Applies one movement to the position of `atLocation` (the movement's own location, or the other end
 * of a transfer): decide on the current ledger state, append the movement with the position after it,
 * the availability changes per channel and any shortfall it reveals, then update this instance's read
 * model. A lost race re-reads and decides again; a request applied before returns its first position.
 * `fresh` marks a request keyed by an id minted in this call (a new reservation's holds): a refusal of
 * it needs no lookup.
 */
export async function applyMovement(
  deps: MovementDeps,
  movement: Movement,
  atLocation: string,
  request: CommitRequest,
  options: { fresh?: boolean } = {},
): Promise<{ position: PositionState; applied: boolean }> {
  return deps.lock(`${movement.sku}@${atLocation}`, () =>
    retryOnConflict(
      async () => {
        // No lookup before deciding: the append is keyed by the request, so a repeat that decides the
        // same is answered there with the first position. Only a refusal asks whether the request
        // was applied before (its first attempt may be what now leaves too little stock).
        const before = await deps.ledger.loadForWrite(movement.sku, atLocation);
        let planned: ReturnType<typeof planMovement>;
        try {
          planned = planMovement(deps, before, movement, atLocation);
        } catch (error) {
          const earlier = options.fresh ? undefined : await deps.ledger.findApplied(request);
          if (earlier) return { position: earlier, applied: false };
          throw error;
        }
        const { decision, after, events } = planned;
        const result = await deps.ledger.append({ before, after, events, request });
        deps.readModel.apply(result.position);
        if (!result.replayed && decision.after.onHand < 0) {
          deps.logger.warn(
            {
              sku: movement.sku,
              locationId: atLocation,
              onHand: decision.after.onHand,
              reason: movement.reason,
            },
            "on hand below zero by a movement with a stated reason",
          );
        }
        if (!result.replayed && decision.newShortfall) {
          deps.logger.warn(
            {
              sku: movement.sku,
              locationId: atLocation,
              ...decision.newShortfall,
              movementType: movement.type,
            },
            "reservations no longer fit in sellable stock; flagged",
          );
        }
        return { position: result.position, applied: !result.replayed };
      },
      (error) => error instanceof ConcurrencyConflict,
    ),
  );
}

import type {
  ChannelRule,
  ChannelStockView,
  Location,
  LocationType,
  StockMovement,
} from "@retail/contracts/retail/inventory/v1/inventory_pb";
import type { Logger } from "@retail/platform/log";
import type { CommitRequest, NewEvent } from "@retail/platform/store";
import type { ChannelRuleState } from "../domain/channels.js";
import type { ReservationState } from "../domain/reservation.js";
import type { Movement, PositionState } from "../domain/stock-position.js";

/** The stock ledger: one stream per SKU and location. */
export interface StockLedger {
  /** The position as of its latest ledger entry (an empty one for a new SKU and location). */
  load(sku: string, locationId: string): Promise<PositionState>;
  /**
   * The position to decide a write on: this instance's last known state when it has one, without a
   * read. Optimistic: if another instance moved the position since, the append at that version
   * conflicts, the ledger forgets its copy, and the retry loads the current state.
   */
  loadForWrite(sku: string, locationId: string): Promise<PositionState>;
  /**
   * Appends a movement's events at `before.version`; throws ConcurrencyConflict when another writer got
   * there first. A request applied before returns the position it produced then, replayed = true.
   */
  append(input: {
    before: PositionState;
    after: PositionState;
    events: readonly NewEvent[];
    request: CommitRequest;
  }): Promise<{ replayed: boolean; position: PositionState }>;
  /** The position a request produced, when it was applied already. */
  findApplied(request: CommitRequest): Promise<PositionState | undefined>;
  /**
   * Appends the first entry of many positions in one go (initial stock loads). Per item: the position
   * after it, or the error (ConcurrencyConflict when the position turned out not to be new).
   */
  appendFirst(
    items: ReadonlyArray<{ after: PositionState; events: readonly NewEvent[]; request: CommitRequest }>,
  ): Promise<Array<{ replayed: boolean; position: PositionState } | Error>>;
  /** Ledger entries of a position after a ledger version, oldest first, at most `limit`. */
  movements(
    sku: string,
    locationId: string,
    afterVersion: number,
    limit: number,
  ): Promise<Array<{ version: number; movement: StockMovement }>>;
  /** The current state of every position with a ledger entry recorded at or after `since`. */
  changedSince(since: Date): Promise<PositionState[]>;
  /** Every position, folded straight from the ledger, holds and all (the ledger-agreement check). */
  rebuildAll(): Promise<PositionState[]>;
  /**
   * Every position as its latest movement reported it (figures and version, no holds): what the
   * availability read model keeps, so what a restart rebuilds it from. One stream in memory at a
   * time, one event decoded per stream.
   */
  latestPositions(): Promise<PositionState[]>;
}

/**
 * Transfers between their two ledger appends: an intent is kept from before the first until after the
 * second, so one interrupted in between is found and completed by the sweep.
 */
export interface PendingTransfers {
  begin(movement: Movement): Promise<void>;
  end(movementId: string): Promise<void>;
  /** Transfers begun before `cutoff` and not ended. */
  olderThan(cutoff: Date): Promise<Movement[]>;
}

/** Where a reservation held one of its order's lines. */
export interface PlacedLine {
  readonly lineId: string;
  readonly sku: string;
  readonly locationId: string;
}

export interface OrderReservation {
  readonly reservationId: string;
  readonly open: boolean;
  readonly lines: readonly PlacedLine[];
}

/** What an order event does to stock: changes to holds, and units shipped that no hold covered. */
export interface FulfilmentPlan {
  readonly changes: ReadonlyArray<{
    readonly reservationId: string;
    readonly lines: ReadonlyArray<{ readonly lineId: string; readonly quantity: number }>;
  }>;
  readonly unheld: ReadonlyArray<PlacedLine & { readonly quantity: number }>;
}

/** Reservations: one stream each, plus a projection of the open ones and their expiry. */
export interface ReservationStore {
  load(reservationId: string): Promise<ReservationState | undefined>;
  /** Appends after `current` (undefined for a new reservation); returns the state after. */
  append(
    reservationId: string,
    current: ReservationState | undefined,
    events: readonly NewEvent[],
    request?: CommitRequest,
  ): Promise<{ replayed: boolean; state: ReservationState }>;
  /**
   * The reservation and, from the same read, whether a request was applied to it already
   * (IdempotencyKeyReused when its key came with another payload).
   */
  loadFor(
    reservationId: string,
    request: CommitRequest,
  ): Promise<{ state: ReservationState | undefined; applied: boolean }>;
  /** Open reservations past their expiry, and pending ones older than `pendingBefore`. */
  due(now: Date, pendingBefore: Date): Promise<string[]>;
  /** Every reservation placed for an order, oldest first, with where each line was held. */
  forOrder(orderId: string): Promise<OrderReservation[]>;
  /**
   * Keeps the first plan made for an order event and returns it: a redelivered event carries out the
   * plan its first delivery made, never a new one decided on holds that plan already changed.
   */
  planOnce(eventId: string, make: () => Promise<FulfilmentPlan>): Promise<FulfilmentPlan>;
  /** Drops a projection entry whose reservation never got its first event (a crash in between). */
  forget(reservationId: string): Promise<void>;
}

/** Locations and channel rules: the small, slow-changing data every decision reads. */
export interface CatalogStore {
  saveLocation(location: Location): Promise<void>;
  saveChannelRule(rule: ChannelRule): Promise<void>;
  loadAll(): Promise<{ locations: Location[]; rules: ChannelRule[] }>;
}

/** What the use cases read about locations and channels (kept in memory, current across instances). */
export interface Catalog {
  hasLocation(locationId: string): boolean;
  locationType(locationId: string): LocationType | undefined;
  locationIds(): string[];
  locations(): Location[];
  rule(channelId: string): ChannelRuleState | undefined;
  rules(): ChannelRule[];
  rulesFeeding(locationId: string): ChannelRuleState[];
  putLocation(location: Location): void;
  putRule(rule: ChannelRule): void;
}

export interface Clock {
  now(): Date;
}

export type { Logger };

/** One position as the read model keeps it (holds are the ledger's business, not the read model's). */
export type PositionView = Omit<PositionState, "holds">;

/** A sellable figure, as GetAvailability answers it. */
export interface AvailabilityFigure {
  readonly sku: string;
  /** Empty for a channel's total over its locations. */
  readonly locationId: string;
  readonly channelId: string;
  readonly available: number;
  /** Ledger version of the position; for a total, the highest version among its locations. */
  readonly ledgerVersion: number;
}

/**
 * The availability read model of one instance: positions by SKU and location, kept current by the
 * service's events and its own writes; older positions than the one held are ignored.
 */
export interface AvailabilityView {
  /** Applies a position if it is newer than what is held; returns whether it was applied. */
  apply(position: PositionView): boolean;
  /**
   * Replaces every position with what `load` reads (a rebuild from the ledger), except one an event
   * made newer while it read; how many positions changed.
   */
  rebuild(load: () => Promise<Iterable<PositionView>>): Promise<number>;
  get(sku: string, locationId: string): PositionView | undefined;
  available(sku: string, locationId: string): number;
  readonly size: number;
  /** Raw figures per location (one, or every location holding the SKU). */
  byLocation(sku: string, locationId?: string): AvailabilityFigure[];
  /** A channel's view: each of its locations less the buffer, then the total (location ""). */
  byChannel(sku: string, rule: ChannelRuleState, locationId?: string): AvailabilityFigure[];
}

/** Which channel view of stock a report is about. */
export interface ChannelStockKey {
  readonly channelId: string;
  readonly locationId: string;
  readonly sku: string;
}

/** The channels' reported stock views, each one stream of reports (the newest is the view). */
export interface ChannelStockStore {
  /** The view as recorded, its version, and the view a request recorded when it was applied already. */
  read(
    key: ChannelStockKey,
    request: CommitRequest,
  ): Promise<{
    current: ChannelStockView | undefined;
    version: number;
    applied: ChannelStockView | undefined;
  }>;
  /** Records a view at `version` (publishing ChannelStockReported); ConcurrencyConflict when it moved. */
  append(
    key: ChannelStockKey,
    version: number,
    view: ChannelStockView,
    request: CommitRequest,
  ): Promise<void>;
}

import type { ParkedMessage } from "@retail/contracts/retail/admin/v1/admin_pb";
import type { GetStatusResponse } from "@retail/contracts/retail/admin/v1/admin_service_pb";
import type {
  ChannelOrderView,
  ExceptionKind,
  OperationalException,
  TraceEvent,
} from "@retail/contracts/retail/operations/v1/operations_pb";
import type { OrderStatus } from "@retail/contracts/retail/order/v1/order_pb";
import type { Logger } from "@retail/platform/log";
import type { NewEvent } from "@retail/platform/store";
import type { ExceptionChange } from "../domain/exceptions.js";
import type { KeptView } from "../domain/order-drift.js";

/** Every event as kept for tracing. */
export interface Timeline {
  /** Keeps an event once (a redelivery keeps nothing new). */
  keep(event: TraceEvent): Promise<void>;
  /** The events of a correlation id, order or customer, oldest first, at most `limit`. */
  trace(
    by: { correlationId?: string; orderId?: string; customerId?: string },
    limit: number,
  ): Promise<TraceEvent[]>;
  /** The events of these routing keys, newest first, at most `limit`. */
  latestOf(routingKeys: readonly string[], limit: number): Promise<TraceEvent[]>;
  /** Drops events received before `before`; how many. */
  forget(before: Date): Promise<number>;
  /**
   * Empties the bodies of every event of an erased customer: those naming the customer, and those of
   * the orders they name (an order's earlier events carry the shopper's details before they are
   * resolved to a customer). Remembers the erasure, so an event of theirs coming later is kept
   * without its body. How many events were emptied.
   */
  eraseCustomer(customerId: string): Promise<number>;
}

export interface ExceptionQuery {
  readonly kind?: ExceptionKind;
  /** Only items that began at or before this. */
  readonly sinceAtMost?: Date;
  readonly sourceSystem?: string;
  readonly includeResolved: boolean;
  readonly pageSize: number;
  readonly pageToken: string;
}

/** The exception lists. */
export interface ExceptionStore {
  apply(change: ExceptionChange): Promise<void>;
  /** Open items by kind: how many, and when the oldest began. */
  openByKind(): Promise<Array<{ kind: ExceptionKind; open: number; oldest: Date | undefined }>>;
  list(query: ExceptionQuery): Promise<{ exceptions: OperationalException[]; nextPageToken: string }>;
}

/** The services whose parked messages operations reaches (their admin RPCs), by name. */
export interface AdminTargets {
  names(): string[];
  listParked(
    service: string,
    request: { queue: string; limit: number },
  ): Promise<{ messages: ParkedMessage[]; parked: Record<string, number> }>;
  replayParked(
    service: string,
    request: { requestId: string; queue: string; eventIds: string[]; reason: string },
  ): Promise<{ replayed: number; kept: number; repeatedRequest: boolean }>;
  republish(
    service: string,
    request: { requestId: string; streamId: string; reason: string },
  ): Promise<{ events: number; repeatedRequest: boolean }>;
  status(service: string): Promise<GetStatusResponse>;
  rebuildReadModel(
    service: string,
    request: { requestId: string; readModel: string; reason: string },
  ): Promise<{ repeatedRequest: boolean }>;
}

/** A kept view with what its writes are checked against. */
export interface StoredView extends KeptView {
  /** Events appended to its drift stream so far. */
  readonly version: number;
  readonly revision: number;
}

/** The channels' views of orders. */
export interface ChannelViewStore {
  /** Keeps the view unless a newer one of the same channel and order is kept; either way, the kept one. */
  record(view: ChannelOrderView): Promise<StoredView>;
  /** Views to compare: newly reported, differing, or of these orders (which changed). */
  candidates(query: { orderIds: readonly string[]; limit: number }): Promise<StoredView[]>;
  /** Saves a comparison over the revision read; false when the view changed meanwhile. */
  saveComparison(stored: StoredView, kept: KeptView, version: number, now: Date): Promise<boolean>;
  ofOrder(orderId: string): Promise<ChannelOrderView[]>;
  /** The views that differ from the mesh, oldest difference first. */
  diverged(limit: number): Promise<ChannelOrderView[]>;
}

/** The mesh's own order status (the order service's answer); undefined for an order it does not have. */
export interface OrderStatuses {
  statusOf(orderId: string): Promise<OrderStatus | undefined>;
}

/** Operations' own events (order drift), appended to a stream and published by the outbox. */
export interface DriftEvents {
  /** Appends at `version`; false when the stream already moved on (another instance raised it). */
  append(streamId: string, version: number, event: NewEvent): Promise<boolean>;
}

export interface Clock {
  now(): Date;
}

export interface OperationsDeps {
  readonly timeline: Timeline;
  readonly exceptions: ExceptionStore;
  readonly adminTargets: AdminTargets;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How late a stock movement may be recorded before it is listed. */
  readonly lateStockMs: number;
  readonly channelViews: ChannelViewStore;
  readonly orderStatuses: OrderStatuses;
  readonly driftEvents: DriftEvents;
  /** How long a channel may show an order differently before it is a drift. */
  readonly driftGraceMs: number;
  /** Orders whose events came since the last comparison sweep (their views are compared again). */
  readonly changedOrders: Set<string>;
  /** Events received, for the status samples' throughput and lag. */
  readonly onEvent?: (eventTime: Date) => void;
}

import type { Channel, PostalAddress } from "@retail/contracts/retail/common/v1/common_pb";
import type { TaxRateSet } from "@retail/contracts/retail/order/v1/order_events_pb";
import type { Order, TaxRate } from "@retail/contracts/retail/order/v1/order_pb";
import type { OrderCustomer } from "@retail/contracts/retail/order/v1/order_service_pb";
import type { Logger } from "@retail/platform/log";
import type { AppendOptions, CommitRequest, PlanStore } from "@retail/platform/store";
import type { StockRefusal } from "../domain/acceptance.js";
import type { OrderEvent } from "../domain/order.js";
import type { LineHold, LocationStock } from "../domain/resourcing.js";
import type { TaxRateHistory } from "../domain/tax-rates.js";

/** Order streams ("order:<id>") on the platform stream store, folded into the Order message. */
export interface OrderStreams {
  load(orderId: string): Promise<Order | undefined>;
  /** Appends at expectedVersion + 1 and returns the order after the events. */
  append(
    orderId: string,
    order: Order | undefined,
    events: readonly OrderEvent[],
    options?: AppendOptions,
  ): Promise<Order>;
  /**
   * The order and, from the same read, whether a request was applied to it already
   * (IdempotencyKeyReused when its key came with another payload).
   */
  loadFor(
    orderId: string,
    request: Pick<CommitRequest, "key" | "fingerprint">,
  ): Promise<{ order: Order | undefined; applied: boolean }>;
  /** Empties the personal fields of every stored event of an order (erasure); returns how many changed. */
  redact(orderId: string): Promise<number>;
}

export interface OrderFilter {
  readonly customerId?: string;
  readonly channel?: Channel;
  readonly status?: number;
  readonly updatedSince?: Date;
}

/** The orders read model (one document per order, written after every change) and the saga index. */
export interface OrderViews {
  save(order: Order): Promise<void>;
  list(
    filter: OrderFilter,
    pageSize: number,
    pageToken: string,
  ): Promise<{ orders: Order[]; nextPageToken: string }>;
  /** Orders whose pickup deadline passed with pickup lines still open. */
  uncollected(now: Date): Promise<string[]>;
  /**
   * Follows a customer's merge into a survivor (its orders listed under the survivor from now on) or
   * its unmerge (survivorId "": its own orders given back), unless a newer change of that customer
   * was applied already. Returns how many orders moved.
   */
  customerLink(customerId: string, survivorId: string, version: bigint): Promise<number>;
  /** Orders taken for a customer or listed under it. */
  ordersOf(customerId: string): Promise<string[]>;
  /** Replaces an order's document whatever its version (after its stream was redacted). */
  rewrite(order: Order): Promise<void>;
  /** The order one of whose payments the processor calls `reference` (a Stripe charge id). */
  withPaymentReference(reference: string): Promise<string | undefined>;
}

/** What a submission needs to finish its saga after a crash: kept until it is accepted or rejected. */
export interface PendingSubmission {
  readonly orderId: string;
  readonly customer: OrderCustomer;
  readonly receivedAt: Date;
}

export interface PendingSagas {
  start(submission: PendingSubmission): Promise<void>;
  get(orderId: string): Promise<PendingSubmission | undefined>;
  finish(orderId: string): Promise<void>;
  olderThan(cutoff: Date): Promise<string[]>;
  /** Empties the personal details kept for sagas of a known customer; returns how many. */
  redactFor(customerId: string): Promise<number>;
}

/** The customer an order is for, or why it cannot be accepted. */
export type CustomerResolution = { customerId: string } | { rejected: string };

export interface CustomerDirectory {
  resolve(
    orderId: string,
    customer: OrderCustomer,
    shipTo: PostalAddress | undefined,
  ): Promise<CustomerResolution>;
}

export interface StockLine {
  readonly lineId: string;
  readonly sku: string;
  readonly quantity: bigint;
  readonly locationId: string;
  readonly pickup: boolean;
  readonly fromStore: boolean;
}

export type StockResolution = { reservationIds: string[] } | { refused: StockRefusal };

export interface StockReservations {
  /** Reserves an order's lines (idempotent per order), or says what is short. */
  reserve(
    orderId: string,
    channel: Channel,
    channelId: string,
    lines: readonly StockLine[],
  ): Promise<StockResolution>;
  /** Where a line of the order is held now (the first open hold of it), if anywhere. */
  holdOf(order: Order, lineId: string): Promise<LineHold | undefined>;
  /** Sellable stock of a SKU at each location of a channel (every location when none is named). */
  availability(sku: string, channelId: string): Promise<LocationStock[]>;
  /**
   * Releases a line's hold where it is and, when a location is given, reserves it there (confirmed):
   * the new reservation's id, or undefined when there is none to move to or it no longer fits.
   */
  move(
    requestId: string,
    order: Order,
    line: { lineId: string; sku: string },
    hold: LineHold,
    toLocationId: string | undefined,
  ): Promise<string | undefined>;
}

/** What an order's lines cost before tax, as a tax engine is asked about them. */
export interface TaxQuoteRequest {
  readonly currency: string;
  readonly shipTo: PostalAddress;
  readonly shipping: bigint;
  readonly lines: ReadonlyArray<{
    readonly lineId: string;
    readonly quantity: bigint;
    readonly unitPrice: bigint;
    /** The line's own discount and its share of the order's. */
    readonly discount: bigint;
    readonly taxCode: string;
  }>;
}

/** What a channel's orders do when the tax engine does not answer in time. */
export type TaxFallback = "rate_table" | "hold" | "refuse" | "defer";

/** An external tax engine (TaxJar, Avalara ...), asked per order within a deadline. */
export interface TaxEngine {
  readonly name: string;
  /** Tax per line id, in minor units; TaxEngineUnavailable when it cannot answer in time. */
  quote(request: TaxQuoteRequest): Promise<Map<string, bigint>>;
  fallbackFor(channel: Channel): TaxFallback;
}

/** The tax engine timed out, failed or refused the request: its answer cannot be had now. */
export class TaxEngineUnavailable extends Error {
  readonly kind = "tax-engine-unavailable";
}

/** Tax rates, one stream per jurisdiction and tax code: every rate it has had, who set it and when. */
export interface TaxRateStreams {
  load(jurisdiction: string, taxCode: string): Promise<TaxRateHistory | undefined>;
  /** Appends a rate after `history` (undefined: the first); a replayed request returns the history. */
  append(
    history: TaxRateHistory | undefined,
    set: TaxRateSet,
    request?: CommitRequest,
  ): Promise<{ history: TaxRateHistory; replayed: boolean }>;
  /** One page of the rates by tax_rate_id, current ones only unless superseded ones are asked for. */
  list(
    filter: { jurisdiction: string; taxCode: string; includeSuperseded: boolean },
    pageSize: number,
    pageToken: string,
  ): Promise<{ rates: TaxRate[]; nextPageToken: string }>;
  /** Whether a request was applied already (IdempotencyKeyReused when with another payload). */
  applied(request: Pick<CommitRequest, "key" | "fingerprint">): Promise<boolean>;
}

/**
 * Where the business's locations are, for tax: each location's jurisdiction ("US-NY") as inventory
 * last published it. Unknown locations are looked up at inventory.
 */
export interface LocationDirectory {
  jurisdictionOf(locationId: string): Promise<{ known: boolean; jurisdiction: string }>;
  /** Keeps a location as its event says, unless a newer version of it is kept already. */
  save(location: { locationId: string; jurisdiction: string; version: bigint }): Promise<void>;
}

export interface Clock {
  now(): Date;
}

export interface OrderDeps {
  readonly streams: OrderStreams;
  readonly views: OrderViews;
  readonly sagas: PendingSagas;
  readonly customers: CustomerDirectory;
  readonly stock: StockReservations;
  readonly taxRates: TaxRateStreams;
  /** Asked before the rate table for shipped lines, when configured. */
  readonly taxEngine?: TaxEngine;
  readonly locations: LocationDirectory;
  readonly clock: Clock;
  /** What a change planned to ask of other services, kept once per request (see changeOrder). */
  readonly plans: PlanStore<unknown>;
  /** Who is acting, recorded on what it sets (the RPC's caller, or this service). */
  readonly caller: () => string;
  readonly logger: Logger;
  /** Runs work for one order at a time in this process (a saga is never run twice at once here). */
  readonly lock: <T>(key: string, work: () => Promise<T>) => Promise<T>;
}

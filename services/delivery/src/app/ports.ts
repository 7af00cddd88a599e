import type { SigningSecret, Subscription } from "@retail/contracts/retail/delivery/v1/delivery_pb";
import type { Logger } from "@retail/platform/log";
import type { AppendResult, CommitRequest, NewEvent } from "@retail/platform/store";
import type { EventFacts } from "../domain/filter.js";

/** Subscriptions as streams (`subscription:<id>`), folded. */
export interface SubscriptionStore {
  load(subscriptionId: string): Promise<{ subscription: Subscription | undefined; version: number }>;
  append(
    subscriptionId: string,
    expectedVersion: number,
    event: NewEvent,
    request: CommitRequest,
  ): Promise<AppendResult>;
  findRequest(request: CommitRequest): Promise<AppendResult | undefined>;
  /** Every subscription, deleted ones included, by id. */
  all(): Promise<Subscription[]>;
  /** The subscriptions with a change recorded at or after `since`. */
  changedSince(since: Date): Promise<Subscription[]>;
}

/** What this instance knows of the subscriptions, refreshed from the store (a change shows within seconds). */
export interface SubscriptionCache {
  current(): readonly Subscription[];
  /** Takes a change made here; resolves once the queue's bindings follow it. */
  put(subscription: Subscription): Promise<void>;
}

/** Signing secrets' texts, kept apart from the subscription streams (whose events go on the bus). */
export interface SecretStore {
  /** The secret issued for this request (made now, or the one made for it before: a retry gets the same). */
  issue(
    subscriptionId: string,
    requestKey: string,
    now: Date,
  ): Promise<{ secret: SigningSecret; text: string }>;
  texts(secretIds: readonly string[]): Promise<string[]>;
}

/** A domain event's envelope and encoding, as delivery keeps it. */
export interface RecordedEvent {
  readonly eventId: string;
  readonly type: string;
  readonly routingKey: string;
  readonly source: string;
  readonly aggregateId: string;
  readonly sequence: number;
  readonly eventTime: Date;
  readonly correlationId: string;
  /** The trace the event was handled in (W3C traceparent): each delivery attempt is a span of it. */
  readonly traceparent?: string;
  /** The event's protobuf encoding. */
  readonly data: Uint8Array;
}

/** An event recorded for one subscription. */
export interface DeliveryRecord extends RecordedEvent {
  readonly deliveryId: string;
  readonly subscriptionId: string;
  /** What the event itself said of channels and locations (filters read it). */
  readonly facts: EventFacts;
  /**
   * Recorded before its aggregate's facts could decide the subscription's filter (its earlier events
   * not seen yet): the dispatcher decides when they come, or drops it at `nextAttemptAt`.
   */
  readonly awaitingFacts: boolean;
  /** Customers the event names, so an erasure finds the copies. */
  readonly customerIds: readonly string[];
  readonly state: "pending" | "delivered" | "dead";
  readonly attempts: number;
  readonly nextAttemptAt: Date;
  readonly deliveredAt: Date | undefined;
  readonly lastStatus: number;
  readonly lastError: string;
  /** The interchange control number of an X12 rendering, fixed at its first attempt. */
  readonly controlNumber?: number;
}

export type DeliveryState = DeliveryRecord["state"];

/** Which deliveries a replay sends again. */
export type ReplaySelection =
  | { readonly kind: "ids"; readonly deliveryIds: readonly string[] }
  | { readonly kind: "dead" }
  | { readonly kind: "since"; readonly since: Date };

export interface DeliveryStore {
  /** Records deliveries; one already recorded (same subscription and event) is left as it is. */
  record(deliveries: readonly DeliveryRecord[]): Promise<void>;
  /** The oldest pending deliveries of a subscription, by event time then sequence. */
  pending(subscriptionId: string, limit: number): Promise<DeliveryRecord[]>;
  delivered(deliveryId: string, attempts: number, status: number, at: Date): Promise<void>;
  /** Whether a delivery of the aggregate earlier in its order is still pending for the subscription. */
  pendingBefore(subscriptionId: string, aggregateId: string, sequence: number): Promise<boolean>;
  /** Fixes a delivery's control number unless it has one; the one it has. */
  assignControlNumber(deliveryId: string, controlNumber: number): Promise<number>;
  /** Its filter is decided now: it goes out like any other. */
  settle(deliveryId: string): Promise<void>;
  /** Its filter turned it down once its facts were known (or never came): it is not the subscriber's. */
  drop(deliveryId: string): Promise<void>;
  /** A failed attempt: pending again at `nextAttemptAt`, or dead when undefined. */
  failed(
    deliveryId: string,
    attempts: number,
    nextAttemptAt: Date | undefined,
    status: number,
    error: string,
  ): Promise<void>;
  list(
    subscriptionId: string,
    state: DeliveryState | undefined,
    pageSize: number,
    pageToken: string,
  ): Promise<{ deliveries: DeliveryRecord[]; nextPageToken: string }>;
  /** Sends the selected deliveries back to pending at `now`, attempts from zero; how many. */
  replay(subscriptionId: string, selection: ReplaySelection, now: Date): Promise<number>;
  /** Removes deliveries delivered before `before` (retention); how many. */
  forgetDelivered(before: Date): Promise<number>;
  /** Rewrites the stored events naming a customer (`redact` gives the new encoding); how many. */
  eraseCustomer(
    customerId: string,
    redact: (type: string, data: Uint8Array) => Uint8Array | undefined,
  ): Promise<number>;
}

/** What an aggregate's earlier events said of it (an order's channel), for events that do not repeat it. */
export interface AggregateFacts {
  remember(aggregateId: string, facts: EventFacts): Promise<void>;
  recall(aggregateId: string): Promise<EventFacts | undefined>;
}

/** A delivery as it is POSTed: its body and media type. */
export interface Rendered {
  readonly contentType: string;
  readonly body: string;
}

/** Writes a delivery in its subscription's format; undefined when the event means nothing to it. */
export interface DeliveryRenderer {
  render(subscription: Subscription, delivery: DeliveryRecord, now: Date): Promise<Rendered | undefined>;
}

/** The endpoint's answer to one delivery attempt. */
export interface SendOutcome {
  readonly ok: boolean;
  /** The HTTP status; 0 when there was none (refused, timed out). */
  readonly status: number;
  readonly error: string;
  readonly retryAfterMs: number;
}

/** POSTs one rendered delivery under its webhook id, signed with each secret given. */
/** What an attempt is, for its trace: the delivery it makes and its try. */
export interface AttemptOf {
  readonly delivery: Pick<DeliveryRecord, "eventId" | "routingKey" | "traceparent" | "subscriptionId">;
  readonly attempt: number;
}

export interface WebhookSender {
  send(
    url: string,
    webhookId: string,
    rendered: Rendered,
    secrets: readonly string[],
    now: Date,
    attempt?: AttemptOf,
  ): Promise<SendOutcome>;
}

/**
 * Which instance dispatches a subscription's deliveries: one at a time, so its rate limit and its order
 * per aggregate hold across instances. A lease lapses when its holder stops renewing it (a crash).
 */
export interface Leases {
  /** Takes or renews the lease; false while another live instance holds it. */
  hold(subscriptionId: string): Promise<boolean>;
  release(subscriptionId: string): Promise<void>;
}

export interface Clock {
  now(): Date;
}

export interface DeliveryDeps {
  readonly subscriptions: SubscriptionStore;
  readonly cache: SubscriptionCache;
  readonly secrets: SecretStore;
  readonly deliveries: DeliveryStore;
  readonly facts: AggregateFacts;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How long an event waits for its aggregate's facts before a filter that needs them drops it. */
  readonly factsWaitMs: number;
  /**
   * How long a recorded delivery waits before its first attempt, so an earlier event of its aggregate
   * handled at the same moment by another instance is recorded and goes first.
   */
  readonly settleMs: number;
}

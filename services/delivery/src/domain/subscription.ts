// A subscription's life: created, changed (url, filter, state, rate), its signing secret rotated,
// deliveries replayed. Its stream is `subscription:<id>`; its state is the last Subscription its
// events carry. Secrets' texts are never in an event (events go on the bus): only their ids and times.
import { create } from "@bufbuild/protobuf";
import { type Timestamp, timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  type DeliveriesReplayed,
  type DeliveriesReplayedSchema,
  SigningSecretRotatedSchema,
  SubscriptionChangedSchema,
} from "@retail/contracts/retail/delivery/v1/delivery_events_pb";
import {
  DeliveryFormat,
  type SigningSecret,
  SigningSecretSchema,
  type Subscription,
  SubscriptionSchema,
  SubscriptionState,
} from "@retail/contracts/retail/delivery/v1/delivery_pb";
import { SubscriptionDeleted, SubscriptionExists } from "./errors.js";

/** What an operator sets on a subscription; the rest (secrets, times, version) is the mesh's. */
export type SubscriptionSettings = Pick<
  Subscription,
  "subscriptionId" | "url" | "description" | "filter" | "state" | "maxPerSecond" | "format" | "x12"
>;

export const defaultMaxPerSecond = 10;

/** Two settings' messages are the same (JSON.stringify cannot read 64-bit integers; none are here). */
const equal = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** One event of a subscription's stream, decoded. */
export type SubscriptionEvent =
  | { readonly type: typeof SubscriptionChangedSchema.typeName; readonly subscription: Subscription }
  | {
      readonly type: typeof SigningSecretRotatedSchema.typeName;
      readonly newSecret: SigningSecret;
      readonly previousSecret: SigningSecret | undefined;
      readonly at: Date;
    }
  | { readonly type: typeof DeliveriesReplayedSchema.typeName; readonly replayed: DeliveriesReplayed };

/** The subscription after its events, or undefined before the first. */
export function evolve(state: Subscription | undefined, event: SubscriptionEvent): Subscription | undefined {
  switch (event.type) {
    case SubscriptionChangedSchema.typeName:
      return event.subscription;
    case SigningSecretRotatedSchema.typeName:
      if (!state) return state;
      return create(SubscriptionSchema, {
        ...state,
        secrets: [event.newSecret, ...(event.previousSecret ? [event.previousSecret] : [])],
        updateTime: timestampFromDate(event.at),
        version: state.version + 1n,
      });
    default:
      return state ? create(SubscriptionSchema, { ...state, version: state.version + 1n }) : state;
  }
}

function settled(settings: SubscriptionSettings): SubscriptionSettings {
  return {
    ...settings,
    state: settings.state === SubscriptionState.UNSPECIFIED ? SubscriptionState.ACTIVE : settings.state,
    maxPerSecond: settings.maxPerSecond || defaultMaxPerSecond,
    format: settings.format === DeliveryFormat.UNSPECIFIED ? DeliveryFormat.JSON : settings.format,
  };
}

/** The SubscriptionChanged that creates a subscription with its first secret. */
export function decideCreate(
  existing: Subscription | undefined,
  settings: SubscriptionSettings,
  secret: SigningSecret,
  actor: string,
  now: Date,
) {
  if (existing) throw new SubscriptionExists(settings.subscriptionId);
  const subscription = create(SubscriptionSchema, {
    ...settled(settings),
    secrets: [secret],
    createTime: timestampFromDate(now),
    updateTime: timestampFromDate(now),
    version: 1n,
  });
  return create(SubscriptionChangedSchema, { subscription, actor });
}

/** The SubscriptionChanged that replaces its settings; undefined when they are the same already. */
export function decideUpdate(
  existing: Subscription,
  settings: SubscriptionSettings,
  actor: string,
  now: Date,
) {
  if (existing.state === SubscriptionState.DELETED) throw new SubscriptionDeleted(existing.subscriptionId);
  const next = settled(settings);
  const same =
    existing.url === next.url &&
    existing.description === next.description &&
    existing.state === next.state &&
    existing.maxPerSecond === next.maxPerSecond &&
    existing.format === next.format &&
    equal(existing.x12, next.x12) &&
    equal(existing.filter, next.filter);
  if (same) return undefined;
  const subscription = create(SubscriptionSchema, {
    ...existing,
    ...next,
    updateTime: timestampFromDate(now),
    version: existing.version + 1n,
  });
  return create(SubscriptionChangedSchema, { subscription, actor });
}

/**
 * The SigningSecretRotated that makes `secret` the signing one and keeps the current one signing
 * beside it until `now + overlapMs` (a secret already expiring is dropped).
 */
export function decideRotate(
  existing: Subscription,
  secret: SigningSecret,
  overlapMs: number,
  actor: string,
  now: Date,
) {
  if (existing.state === SubscriptionState.DELETED) throw new SubscriptionDeleted(existing.subscriptionId);
  const current = existing.secrets.find((s) => !s.expireTime);
  const previousSecret = current
    ? create(SigningSecretSchema, {
        ...current,
        expireTime: timestampFromDate(new Date(now.getTime() + overlapMs)),
      })
    : undefined;
  return create(SigningSecretRotatedSchema, {
    subscriptionId: existing.subscriptionId,
    newSecret: secret,
    ...(previousSecret ? { previousSecret } : {}),
    actor,
  });
}

/** The secrets that sign a delivery at `now`: the current one and any not yet expired. */
export function signingSecretIds(subscription: Subscription, now: Date): string[] {
  return subscription.secrets
    .filter((s: SigningSecret) => !s.expireTime || expiresAfter(s.expireTime, now))
    .map((s) => s.secretId);
}

function expiresAfter(expireTime: Timestamp, now: Date): boolean {
  return timestampDate(expireTime).getTime() > now.getTime();
}

/** Whether events are recorded for the subscription (paused ones are recorded and held). */
export function records(subscription: Subscription): boolean {
  return subscription.state !== SubscriptionState.DELETED;
}

/** Whether its deliveries go out now. */
export function delivers(subscription: Subscription): boolean {
  return subscription.state === SubscriptionState.ACTIVE;
}

import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  DeliveriesReplayedSchema,
  SigningSecretRotatedSchema,
  SubscriptionChangedSchema,
} from "@retail/contracts/retail/delivery/v1/delivery_events_pb";
import { type Subscription, SubscriptionState } from "@retail/contracts/retail/delivery/v1/delivery_pb";
import {
  ConcurrencyConflict,
  event,
  type RequestRef,
  requestKey,
  retryOnConflict,
} from "@retail/platform/store";
import { SubscriptionDeleted, SubscriptionExists, UnknownSubscription } from "../domain/errors.js";
import {
  decideCreate,
  decideRotate,
  decideUpdate,
  type SubscriptionSettings,
} from "../domain/subscription.js";
import type { DeliveryDeps, ReplaySelection } from "./ports.js";

/** Who is acting, as the call context says ("gateway:<client id>"). */
export interface Actor {
  readonly actor: string;
}

async function required(deps: DeliveryDeps, subscriptionId: string) {
  const loaded = await deps.subscriptions.load(subscriptionId);
  if (!loaded.subscription) throw new UnknownSubscription(subscriptionId);
  return { subscription: loaded.subscription, version: loaded.version };
}

/** Reads the subscription as it is now and tells this instance's cache. */
async function settledView(deps: DeliveryDeps, subscriptionId: string): Promise<Subscription> {
  const { subscription } = await required(deps, subscriptionId);
  await deps.cache.put(subscription);
  return subscription;
}

/**
 * Creates a subscription with its first signing secret. A retry of the same request answers with the
 * same subscription and the same secret; another request for an existing id is refused.
 */
export async function createSubscription(
  deps: DeliveryDeps,
  settings: SubscriptionSettings,
  request: RequestRef,
  { actor }: Actor,
): Promise<{ subscription: Subscription; secretText: string }> {
  const key = requestKey("delivery.CreateSubscription", request.id);
  const commit = { key, fingerprint: request.fingerprint };
  const id = settings.subscriptionId;
  const earlier = await deps.subscriptions.findRequest(commit);
  // Refused before a secret is made for it (a concurrent create of the same id is refused below).
  if (!earlier && (await deps.subscriptions.load(id)).subscription) throw new SubscriptionExists(id);
  const issued = await deps.secrets.issue(id, key, deps.clock.now());
  if (!earlier) {
    await retryOnConflict(
      async () => {
        const { subscription, version } = await deps.subscriptions.load(id);
        const created = decideCreate(subscription, settings, issued.secret, actor, deps.clock.now());
        await deps.subscriptions.append(id, version, event(SubscriptionChangedSchema, created), commit);
      },
      (error) => error instanceof ConcurrencyConflict,
    );
  }
  return { subscription: await settledView(deps, id), secretText: issued.text };
}

/** Replaces a subscription's settings (url, description, filter, state, rate); the same ones change nothing. */
export async function updateSubscription(
  deps: DeliveryDeps,
  settings: SubscriptionSettings,
  request: RequestRef,
  { actor }: Actor,
): Promise<Subscription> {
  const commit = {
    key: requestKey("delivery.UpdateSubscription", request.id),
    fingerprint: request.fingerprint,
  };
  const id = settings.subscriptionId;
  if (!(await deps.subscriptions.findRequest(commit))) {
    await retryOnConflict(
      async () => {
        const { subscription, version } = await required(deps, id);
        const changed = decideUpdate(subscription, settings, actor, deps.clock.now());
        if (changed)
          await deps.subscriptions.append(id, version, event(SubscriptionChangedSchema, changed), commit);
      },
      (error) => error instanceof ConcurrencyConflict,
    );
  }
  return settledView(deps, id);
}

/** Makes a new signing secret; the previous one signs beside it for `overlapMs`. A retry answers the same secret. */
export async function rotateSigningSecret(
  deps: DeliveryDeps,
  subscriptionId: string,
  overlapMs: number,
  request: RequestRef,
  { actor }: Actor,
): Promise<{ subscription: Subscription; secretText: string }> {
  const key = requestKey("delivery.RotateSigningSecret", request.id);
  const commit = { key, fingerprint: request.fingerprint };
  const earlier = await deps.subscriptions.findRequest(commit);
  const { subscription: current } = await required(deps, subscriptionId);
  if (!earlier && current.state === SubscriptionState.DELETED) throw new SubscriptionDeleted(subscriptionId);
  const issued = await deps.secrets.issue(subscriptionId, key, deps.clock.now());
  if (!earlier) {
    await retryOnConflict(
      async () => {
        const { subscription, version } = await required(deps, subscriptionId);
        const rotated = decideRotate(subscription, issued.secret, overlapMs, actor, deps.clock.now());
        await deps.subscriptions.append(
          subscriptionId,
          version,
          event(SigningSecretRotatedSchema, rotated),
          commit,
        );
      },
      (error) => error instanceof ConcurrencyConflict,
    );
  }
  return { subscription: await settledView(deps, subscriptionId), secretText: issued.text };
}

export async function getSubscription(deps: DeliveryDeps, subscriptionId: string): Promise<Subscription> {
  return (await required(deps, subscriptionId)).subscription;
}

/** One page of subscriptions by id; the token is the last id of the page before. */
export async function listSubscriptions(
  deps: DeliveryDeps,
  pageSize: number,
  afterId: string,
): Promise<{ subscriptions: Subscription[]; lastId: string | undefined }> {
  const all = (await deps.subscriptions.all()).filter((s) => s.subscriptionId > afterId);
  const page = all.slice(0, pageSize);
  return { subscriptions: page, lastId: all.length > pageSize ? page.at(-1)?.subscriptionId : undefined };
}

/**
 * Sends a subscription's deliveries back to pending (the ones named, the dead ones, or every one since
 * a time) and records who did it on the subscription's stream. A retry of the request replays nothing
 * more and answers the first count.
 */
export async function replayDeliveries(
  deps: DeliveryDeps,
  subscriptionId: string,
  selection: ReplaySelection,
  request: RequestRef,
  { actor }: Actor,
): Promise<number> {
  const commit = {
    key: requestKey("delivery.ReplayDeliveries", request.id),
    fingerprint: request.fingerprint,
  };
  const earlier = await deps.subscriptions.findRequest(commit);
  if (earlier) return Number(Buffer.from(earlier.result ?? new Uint8Array()).toString("utf8") || 0);
  await required(deps, subscriptionId);
  const count = await deps.deliveries.replay(subscriptionId, selection, deps.clock.now());
  await retryOnConflict(
    async () => {
      const { version } = await required(deps, subscriptionId);
      const replayed = event(
        DeliveriesReplayedSchema,
        create(DeliveriesReplayedSchema, {
          subscriptionId,
          deliveryIds: selection.kind === "ids" ? [...selection.deliveryIds] : [],
          deadLetters: selection.kind === "dead",
          ...(selection.kind === "since" ? { since: timestampFromDate(selection.since) } : {}),
          count,
          actor,
        }),
      );
      await deps.subscriptions.append(subscriptionId, version, replayed, {
        ...commit,
        result: Buffer.from(String(count), "utf8"),
      });
    },
    (error) => error instanceof ConcurrencyConflict,
  );
  return count;
}

import { fromBinary } from "@bufbuild/protobuf";
import {
  DeliveriesReplayedSchema,
  SigningSecretRotatedSchema,
  SubscriptionChangedSchema,
} from "@retail/contracts/retail/delivery/v1/delivery_events_pb";
import type { Subscription } from "@retail/contracts/retail/delivery/v1/delivery_pb";
import type { StoredEvent, StreamStore } from "@retail/platform/store";
import type { SubscriptionStore } from "../../app/ports.js";
import { evolve, type SubscriptionEvent } from "../../domain/subscription.js";

const prefix = "subscription:";

function decode(stored: StoredEvent): SubscriptionEvent | undefined {
  switch (stored.type) {
    case SubscriptionChangedSchema.typeName: {
      const subscription = fromBinary(SubscriptionChangedSchema, stored.data).subscription;
      return subscription ? { type: SubscriptionChangedSchema.typeName, subscription } : undefined;
    }
    case SigningSecretRotatedSchema.typeName: {
      const rotated = fromBinary(SigningSecretRotatedSchema, stored.data);
      return rotated.newSecret
        ? {
            type: SigningSecretRotatedSchema.typeName,
            newSecret: rotated.newSecret,
            previousSecret: rotated.previousSecret,
            at: stored.occurredAt,
          }
        : undefined;
    }
    case DeliveriesReplayedSchema.typeName:
      return {
        type: DeliveriesReplayedSchema.typeName,
        replayed: fromBinary(DeliveriesReplayedSchema, stored.data),
      };
    default:
      return undefined;
  }
}

function fold(events: readonly StoredEvent[]): Subscription | undefined {
  let state: Subscription | undefined;
  for (const stored of events) {
    const decoded = decode(stored);
    if (decoded) state = evolve(state, decoded);
  }
  return state;
}

/** Subscriptions as streams `subscription:<id>` on the platform's stream store. */
export function createSubscriptionStore(store: StreamStore): SubscriptionStore {
  return {
    async load(subscriptionId) {
      const events = await store.read(`${prefix}${subscriptionId}`);
      return { subscription: fold(events), version: events.at(-1)?.version ?? 0 };
    },
    async append(subscriptionId, expectedVersion, newEvent, request) {
      return store.append(`${prefix}${subscriptionId}`, expectedVersion, [newEvent], { request });
    },
    findRequest: (request) => store.findRequest(request),
    async changedSince(since) {
      const streams = await store.streamsRecordedSince(prefix, since);
      const changed = await Promise.all(streams.map((streamId) => store.read(streamId)));
      return changed.map(fold).filter((s): s is Subscription => s !== undefined);
    },
    async all() {
      const byStream = new Map<string, StoredEvent[]>();
      for await (const stored of store.readStreams(prefix)) {
        const events = byStream.get(stored.streamId);
        if (events) events.push(stored);
        else byStream.set(stored.streamId, [stored]);
      }
      return [...byStream.values()]
        .map(fold)
        .filter((s): s is Subscription => s !== undefined)
        .sort((a, b) => (a.subscriptionId < b.subscriptionId ? -1 : 1));
    },
  };
}

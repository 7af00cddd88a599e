import { create } from "@bufbuild/protobuf";
import { durationMs, timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  type Delivery,
  DeliverySchema,
  DeliveryState,
} from "@retail/contracts/retail/delivery/v1/delivery_pb";
import {
  CreateSubscriptionRequestSchema,
  type DeliveryService,
  ReplayDeliveriesRequestSchema,
  RotateSigningSecretRequestSchema,
  UpdateSubscriptionRequestSchema,
} from "@retail/contracts/retail/delivery/v1/delivery_service_pb";
import { currentCallContext } from "@retail/platform/rpc";
import { checkPageRequest, decodePageToken, encodePageToken, requestOf } from "@retail/platform/store";
import {
  createSubscription,
  getSubscription,
  listSubscriptions,
  replayDeliveries,
  rotateSigningSecret,
  updateSubscription,
} from "../app/manage-subscriptions.js";
import type { DeliveryDeps, DeliveryRecord, ReplaySelection } from "../app/ports.js";
import { checkSubscription, checkSubscriptionId, pageLimits, Violations } from "./validation.js";

const defaultOverlapMs = 24 * 3600_000;
const maxOverlapMs = 7 * 24 * 3600_000;

const states = {
  pending: DeliveryState.PENDING,
  delivered: DeliveryState.DELIVERED,
  dead: DeliveryState.DEAD,
} as const;

function toDelivery(record: DeliveryRecord): Delivery {
  return create(DeliverySchema, {
    deliveryId: record.deliveryId,
    subscriptionId: record.subscriptionId,
    eventId: record.eventId,
    eventType: record.type,
    aggregateId: record.aggregateId,
    sequence: BigInt(record.sequence),
    state: states[record.state],
    attempts: record.attempts,
    eventTime: timestampFromDate(record.eventTime),
    ...(record.state === "pending" ? { nextAttemptTime: timestampFromDate(record.nextAttemptAt) } : {}),
    ...(record.deliveredAt ? { deliveredTime: timestampFromDate(record.deliveredAt) } : {}),
    lastStatusCode: record.lastStatus,
    lastError: record.lastError,
  });
}

const actor = () => ({ actor: currentCallContext()?.caller ?? "" });

/** The DeliveryService RPCs: check the request, call the use case, answer in proto. */
export function createDeliveryHandler(deps: DeliveryDeps): ServiceImpl<typeof DeliveryService> {
  return {
    async createSubscription(request) {
      const v = new Violations();
      v.require("request_id", request.requestId);
      const settings = checkSubscription(v, request.subscription);
      v.throwIfAny();
      const created = await createSubscription(
        deps,
        settings,
        requestOf(CreateSubscriptionRequestSchema, request),
        actor(),
      );
      return { subscription: created.subscription, signingSecret: created.secretText };
    },
    async updateSubscription(request) {
      const v = new Violations();
      v.require("request_id", request.requestId);
      const settings = checkSubscription(v, request.subscription);
      v.throwIfAny();
      const subscription = await updateSubscription(
        deps,
        settings,
        requestOf(UpdateSubscriptionRequestSchema, request),
        actor(),
      );
      return { subscription };
    },
    async getSubscription(request) {
      const v = new Violations();
      checkSubscriptionId(v, "subscription_id", request.subscriptionId);
      v.throwIfAny();
      return { subscription: await getSubscription(deps, request.subscriptionId) };
    },
    async listSubscriptions(request) {
      const v = new Violations();
      const pageSize = checkPageRequest(v, request, pageLimits);
      v.throwIfAny();
      const after = request.pageToken ? (decodePageToken(request.pageToken)?.id ?? "") : "";
      const page = await listSubscriptions(deps, pageSize, after);
      return {
        subscriptions: page.subscriptions,
        nextPageToken: page.lastId ? encodePageToken({ t: 0, id: page.lastId }) : "",
      };
    },
    async rotateSigningSecret(request) {
      const v = new Violations();
      v.require("request_id", request.requestId);
      checkSubscriptionId(v, "subscription_id", request.subscriptionId);
      const overlapMs = request.overlap ? durationMs(request.overlap) : defaultOverlapMs;
      if (overlapMs < 0 || overlapMs > maxOverlapMs) v.add("overlap", "must be between 0 and 7 days");
      v.throwIfAny();
      const rotated = await rotateSigningSecret(
        deps,
        request.subscriptionId,
        overlapMs,
        requestOf(RotateSigningSecretRequestSchema, request),
        actor(),
      );
      return { subscription: rotated.subscription, signingSecret: rotated.secretText };
    },
    async listDeliveries(request) {
      const v = new Violations();
      checkSubscriptionId(v, "subscription_id", request.subscriptionId);
      const pageSize = checkPageRequest(v, request, pageLimits);
      const state = Object.entries(states).find(([, value]) => value === request.state)?.[0] as
        | keyof typeof states
        | undefined;
      if (request.state !== DeliveryState.UNSPECIFIED && !state) v.add("state", "is not a delivery state");
      v.throwIfAny();
      await getSubscription(deps, request.subscriptionId);
      const page = await deps.deliveries.list(request.subscriptionId, state, pageSize, request.pageToken);
      return { deliveries: page.deliveries.map(toDelivery), nextPageToken: page.nextPageToken };
    },
    async replayDeliveries(request) {
      const v = new Violations();
      v.require("request_id", request.requestId);
      checkSubscriptionId(v, "subscription_id", request.subscriptionId);
      const chosen = [request.deliveryIds.length > 0, request.deadLetters, request.since !== undefined];
      if (chosen.filter(Boolean).length !== 1)
        v.add("delivery_ids", "exactly one of delivery_ids, dead_letters and since must be given");
      request.deliveryIds.forEach((id, i) => {
        if (!id.startsWith(`${request.subscriptionId}:`))
          v.add(
            `delivery_ids[${i}]`,
            "must be a delivery of this subscription (<subscription id>:<event id>)",
          );
      });
      v.throwIfAny();
      const selection: ReplaySelection = request.since
        ? { kind: "since", since: timestampDate(request.since) }
        : request.deadLetters
          ? { kind: "dead" }
          : { kind: "ids", deliveryIds: request.deliveryIds };
      const count = await replayDeliveries(
        deps,
        request.subscriptionId,
        selection,
        requestOf(ReplayDeliveriesRequestSchema, request),
        actor(),
      );
      return { count };
    },
  };
}

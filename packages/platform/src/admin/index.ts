// The admin RPCs every service offers its operators, implemented once: the messages its consumers
// parked (decoded, personal fields emptied) and replaying them, and publishing an aggregate's events
// again, and rebuilding a read model on every instance. A parking queue is read by taking each
// message and putting it back at the tail (a rotation): the order stays, and no message is ever
// requeued (quorum queues count requeues against a delivery limit). A replay rotates the queue once,
// sending the messages asked for back to their consumer's main queue instead; it runs once per request
// id, and its audit record (ParkedMessagesReplayed: who, when, what, how many) is appended to the
// service's stream store, so it is published with the service's other events.
import { hostname } from "node:os";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, type ServiceImpl } from "@connectrpc/connect";
import {
  AggregateRepublishedSchema,
  type ParkedMessage,
  ParkedMessageSchema,
  ParkedMessagesReplayedSchema,
  ReadModelRebuildRequestedSchema,
} from "@retail/contracts/retail/admin/v1/admin_pb";
import {
  AdminService,
  RebuildReadModelRequestSchema,
  ReplayParkedMessagesRequestSchema,
  ReplayParkedMessagesResponseSchema,
  RepublishAggregateRequestSchema,
} from "@retail/contracts/retail/admin/v1/admin_service_pb";
import type { AmqpConnectionManager } from "amqp-connection-manager";
import type { GetMessage } from "amqplib";
import { receivedEventFrom } from "../amqp/cloudevents.js";
import { rotateParked, withConfirmChannel } from "../amqp/replay.js";
import { consumerQueues } from "../amqp/topology.js";
import { eventJsonForms } from "../domain-events/index.js";
import { currentCallContext, errorWithInfo, Violations } from "../rpc/index.js";
import {
  type CommitRequest,
  ConcurrencyConflict,
  event,
  fingerprint,
  type NewEvent,
  requestKey,
  type StoredEvent,
  type StreamStore,
} from "../store/index.js";

function headerText(message: GetMessage, name: string): string {
  const value = message.properties.headers?.[name] as unknown;
  return value === undefined || value === null
    ? ""
    : Buffer.isBuffer(value)
      ? value.toString("utf8")
      : String(value);
}

/** A parked message as an operator reads it. */
function describe(queue: string, message: GetMessage): ParkedMessage {
  const failedAt = new Date(headerText(message, "x-failed-at"));
  let received: ReturnType<typeof receivedEventFrom> | undefined;
  try {
    received = receivedEventFrom(message);
  } catch {
    received = undefined;
  }
  let data = "";
  try {
    data = received ? JSON.stringify(eventJsonForms(received.type, received.data)?.redacted ?? "") : "";
  } catch {
    data = "";
  }
  return create(ParkedMessageSchema, {
    queue,
    eventId: received?.id ?? headerText(message, "ce-id"),
    type: received?.type ?? "",
    routingKey: received?.routingKey ?? message.fields.routingKey,
    subject: received?.subject ?? "",
    correlationId: received?.correlationId ?? "",
    attempts: Number(headerText(message, "x-attempts") || 0),
    failureReason: headerText(message, "x-failure-reason"),
    ...(Number.isNaN(failedAt.getTime()) ? {} : { failedTime: timestampFromDate(failedAt) }),
    dataJson: data,
  });
}

/**
 * Appends an action's audit record as the first event of its own stream, published with the service's
 * events; a run of the same request beside this one has recorded its own already.
 */
async function recordAudit(store: StreamStore, streamId: string, record: NewEvent, request: CommitRequest) {
  await store.append(streamId, 0, [record], { request }).catch((error: unknown) => {
    if (!(error instanceof ConcurrencyConflict)) throw error;
  });
}

export interface AdminOptions {
  /** The service's name (in the audit record). */
  readonly service: string;
  /** Publishes stored events as the outbox relay does (for an aggregate published again). */
  readonly publish: (events: readonly StoredEvent[]) => Promise<void>;
  readonly connection: AmqpConnectionManager;
  /** The service's consumer queues, as named on the broker (with the environment's prefix). */
  readonly queues: readonly string[];
  readonly store: StreamStore;
  /**
   * The read models the service can rebuild: each instance rebuilds one when it receives its
   * ReadModelRebuildRequested (readModelRebuildFor; inventory's availability feed binds its key).
   */
  readonly readModels?: readonly string[];
}

/** The routing key of ReadModelRebuildRequested, for a per-instance queue to bind. */
export const readModelRebuildRoutingKey = "admin.read_model_rebuild_requested";

/**
 * The read model a message asks this service to rebuild (a ReadModelRebuildRequested of `service`),
 * else undefined.
 */
export function readModelRebuildFor(
  service: string,
  type: string,
  content: Uint8Array,
): { readModel: string; requestId: string } | undefined {
  if (type !== ReadModelRebuildRequestedSchema.typeName) return undefined;
  const request = fromBinary(ReadModelRebuildRequestedSchema, content);
  return request.service === service
    ? { readModel: request.readModel, requestId: request.requestId }
    : undefined;
}

/** The AdminService of a service. */
export function adminService(options: AdminOptions): Partial<ServiceImpl<typeof AdminService>> {
  const startedAt = new Date();
  const instance = `${hostname()}:${process.pid}`;
  const checkQueue = (v: Violations, field: string, queue: string) => {
    if (queue && !options.queues.includes(queue))
      v.add(field, `is not one of this service's consumer queues (${options.queues.join(", ")})`);
  };
  return {
    async listParkedMessages(request) {
      const v = new Violations();
      checkQueue(v, "queue", request.queue);
      if (request.limit < 0 || request.limit > 500) v.add("limit", "must be 0-500");
      v.throwIfAny();
      const limit = request.limit || 100;
      const queues = request.queue ? [request.queue] : options.queues;
      const messages: ParkedMessage[] = [];
      const parked: Record<string, number> = {};
      await withConfirmChannel(options.connection, `${options.service}-admin-list`, async (channel) => {
        for (const queue of queues) {
          let count = 0;
          await rotateParked(channel, queue, (message) => {
            count++;
            if (messages.length < limit) messages.push(describe(queue, message));
            return "keep";
          });
          parked[queue] = count;
        }
      });
      return { messages, parked };
    },

    async republishAggregate(request) {
      const v = new Violations();
      v.require("request_id", request.requestId);
      v.require("stream_id", request.streamId);
      v.require("reason", request.reason.trim());
      v.throwIfAny();
      const auditStream = `admin-republish:${request.requestId}`;
      const earlier = (await options.store.read(auditStream))[0];
      if (earlier)
        return { events: fromBinary(AggregateRepublishedSchema, earlier.data).events, repeatedRequest: true };
      const events = await options.store.read(request.streamId);
      if (events.length === 0)
        throw errorWithInfo(Code.NotFound, "STREAM_NOT_FOUND", `no events in stream ${request.streamId}`, {
          stream_id: request.streamId,
        });
      // In order, with their own ids: a consumer that has one already changes nothing.
      await options.publish(events);
      const audit = create(AggregateRepublishedSchema, {
        service: options.service,
        streamId: request.streamId,
        events: events.length,
        reason: request.reason,
        actor: currentCallContext()?.caller || "unknown",
        requestId: request.requestId,
      });
      await recordAudit(options.store, auditStream, event(AggregateRepublishedSchema, audit), {
        key: requestKey("admin.republish", request.requestId),
        fingerprint: fingerprint(RepublishAggregateRequestSchema, request),
      });
      return { events: events.length, repeatedRequest: false };
    },

    async getStatus() {
      const queues = await withConfirmChannel(
        options.connection,
        `${options.service}-admin-status`,
        async (channel) => {
          // A queue the broker does not know (not declared yet) is -1; the channel survives a refusal only
          // by not being asked again, so the queues are counted until the first refusal and -1 after.
          let broken = false;
          const depth = async (name: string) => {
            if (broken) return { messageCount: -1, consumerCount: -1 };
            try {
              return await channel.checkQueue(name);
            } catch {
              broken = true;
              return { messageCount: -1, consumerCount: -1 };
            }
          };
          const sum = (counts: number[]) =>
            counts.some((c) => c < 0) ? -1 : counts.reduce((a, b) => a + b, 0);
          const statuses = [];
          for (const queue of options.queues) {
            const names = consumerQueues(queue);
            const main = await depth(names.queue);
            const retrying = [];
            for (const retry of names.retry) retrying.push((await depth(retry.name)).messageCount);
            const parked = await depth(names.parking);
            statuses.push({
              queue,
              ready: BigInt(main.messageCount),
              consumers: main.consumerCount,
              retrying: BigInt(sum(retrying)),
              parked: BigInt(parked.messageCount),
            });
          }
          return statuses;
        },
      );
      return {
        service: options.service,
        instance,
        startTime: timestampFromDate(startedAt),
        outboxBacklog: BigInt(await options.store.unpublishedCount()),
        queues,
      };
    },

    async rebuildReadModel(request) {
      const v = new Violations();
      const known = options.readModels ?? [];
      v.require("request_id", request.requestId);
      if (v.require("read_model", request.readModel) && !known.includes(request.readModel))
        v.add(
          "read_model",
          known.length > 0
            ? `is not one of this service's read models (${known.join(", ")})`
            : "names no read model: this service has none to rebuild",
        );
      v.require("reason", request.reason.trim());
      v.throwIfAny();
      const auditStream = `admin-rebuild:${request.requestId}`;
      if ((await options.store.read(auditStream))[0]) return { repeatedRequest: true };
      // The audit record is the request: published with the service's events, each instance rebuilds on it.
      const audit = create(ReadModelRebuildRequestedSchema, {
        service: options.service,
        readModel: request.readModel,
        reason: request.reason,
        actor: currentCallContext()?.caller || "unknown",
        requestId: request.requestId,
      });
      await recordAudit(options.store, auditStream, event(ReadModelRebuildRequestedSchema, audit), {
        key: requestKey("admin.rebuild", request.requestId),
        fingerprint: fingerprint(RebuildReadModelRequestSchema, request),
      });
      return { repeatedRequest: false };
    },

    async replayParkedMessages(request) {
      const v = new Violations();
      v.require("request_id", request.requestId);
      if (v.require("queue", request.queue)) checkQueue(v, "queue", request.queue);
      v.require("reason", request.reason.trim());
      v.throwIfAny();
      const streamId = `admin-replay:${request.queue}:${request.requestId}`;
      const commit = {
        key: requestKey("admin.replayParked", `${request.queue}:${request.requestId}`),
        fingerprint: fingerprint(ReplayParkedMessagesRequestSchema, request),
      };
      // Once per request id: a repeat answers with the first outcome and moves nothing.
      const earlier = (await options.store.read(streamId))[0];
      if (earlier) {
        const audit = fromBinary(ParkedMessagesReplayedSchema, earlier.data);
        return { replayed: audit.replayed, kept: 0, repeatedRequest: true };
      }
      const wanted = new Set(request.eventIds);
      const outcome = await withConfirmChannel(
        options.connection,
        `${options.service}-admin-replay`,
        (channel) =>
          rotateParked(channel, request.queue, (message) =>
            wanted.size === 0 || wanted.has(headerText(message, "ce-id")) ? "replay" : "keep",
          ),
      );
      const audit = create(ParkedMessagesReplayedSchema, {
        service: options.service,
        queue: request.queue,
        eventIds: [...request.eventIds],
        replayed: outcome.replayed,
        reason: request.reason,
        actor: currentCallContext()?.caller || "unknown",
        requestId: request.requestId,
      });
      await recordAudit(options.store, streamId, event(ParkedMessagesReplayedSchema, audit), {
        ...commit,
        result: toBinary(
          ReplayParkedMessagesResponseSchema,
          create(ReplayParkedMessagesResponseSchema, outcome),
        ),
      });
      return { ...outcome, repeatedRequest: false };
    },
  };
}

export { AdminService };

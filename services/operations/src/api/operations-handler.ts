import { create } from "@bufbuild/protobuf";
import { durationMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { ChannelOrderViewSchema, ExceptionKind } from "@retail/contracts/retail/operations/v1/operations_pb";
import type { OperationsService } from "@retail/contracts/retail/operations/v1/operations_service_pb";
import { OrderStatus } from "@retail/contracts/retail/order/v1/order_pb";
import { Violations } from "@retail/platform/rpc";
import { checkPageRequest } from "@retail/platform/store";
import { meshStatus, type StatusSamples } from "../app/mesh-status.js";
import { recordChannelView } from "../app/order-drift.js";
import type { OperationsDeps } from "../app/ports.js";

const maxPageSize = 200;

/** The events that record an operator's repair: the audit trail. */
const auditRoutingKeys = [
  "admin.parked_messages_replayed",
  "admin.aggregate_republished",
  "admin.read_model_rebuild_requested",
  "delivery.deliveries_replayed",
  "finance.reconciliation_exception_resolved",
];
const maxTrace = 1000;

/** The RPC surface: requests checked whole (every violation named), then answered from the stores. */
export function createOperationsHandler(
  deps: OperationsDeps,
  samples: StatusSamples,
): Partial<ServiceImpl<typeof OperationsService>> {
  /**
   * An operator's repair, checked whole before it is forwarded: its request id, a service operations
   * reaches, what it names (`fields`), and why.
   */
  const checkRepair = (
    request: { requestId: string; service: string; reason: string },
    fields: Record<string, string>,
  ) => {
    const v = new Violations();
    v.require("request_id", request.requestId);
    const known = deps.adminTargets.names();
    if (v.require("service", request.service) && !known.includes(request.service))
      v.add("service", `is not a service operations reaches (${known.join(", ")})`);
    for (const [field, value] of Object.entries(fields)) v.require(field, value);
    v.require("reason", request.reason.trim());
    v.throwIfAny();
  };
  return {
    getMeshStatus: () => meshStatus(deps, samples),

    async getTrace(request) {
      const v = new Violations();
      const given = [request.correlationId, request.orderId, request.customerId].filter((k) => k !== "");
      if (given.length !== 1)
        v.add("correlation_id", "exactly one of correlation_id, order_id and customer_id is required");
      if (request.limit < 0 || request.limit > maxTrace) v.add("limit", `must be 0-${maxTrace}`);
      v.throwIfAny();
      const limit = request.limit || 500;
      const events = await deps.timeline.trace(
        {
          ...(request.correlationId && { correlationId: request.correlationId }),
          ...(request.orderId && { orderId: request.orderId }),
          ...(request.customerId && { customerId: request.customerId }),
        },
        limit + 1,
      );
      return { events: events.slice(0, limit), truncated: events.length > limit };
    },

    async listParkedMessages(request) {
      const v = new Violations();
      const known = deps.adminTargets.names();
      if (request.service && !known.includes(request.service))
        v.add("service", `is not a service operations reaches (${known.join(", ")})`);
      if (request.limit < 0 || request.limit > 500) v.add("limit", "must be 0-500");
      v.throwIfAny();
      const services = request.service ? [request.service] : known;
      // Each service asked on its own: one away is reported, the others answer.
      const answers = await Promise.all(
        services.map(async (service) => {
          try {
            const answer = await deps.adminTargets.listParked(service, {
              queue: request.queue,
              limit: request.limit,
            });
            return { service, ...answer, error: "" };
          } catch (error) {
            return { service, messages: [], parked: {}, error: ConnectError.from(error).message };
          }
        }),
      );
      return {
        messages: answers.flatMap((a) => a.messages.map((message) => ({ service: a.service, message }))),
        services: answers.map(({ service, parked, error }) => ({ service, parked, error })),
      };
    },

    async listAuditRecords(request) {
      const v = new Violations();
      if (request.limit < 0 || request.limit > 500) v.add("limit", "must be 0-500");
      v.throwIfAny();
      return { records: await deps.timeline.latestOf(auditRoutingKeys, request.limit || 100) };
    },

    async republishAggregate(request) {
      checkRepair(request, { stream_id: request.streamId });
      return deps.adminTargets.republish(request.service, {
        requestId: request.requestId,
        streamId: request.streamId,
        reason: request.reason,
      });
    },

    async rebuildReadModel(request) {
      checkRepair(request, { read_model: request.readModel });
      return deps.adminTargets.rebuildReadModel(request.service, {
        requestId: request.requestId,
        readModel: request.readModel,
        reason: request.reason,
      });
    },

    async replayParkedMessages(request) {
      checkRepair(request, { queue: request.queue });
      return deps.adminTargets.replayParked(request.service, {
        requestId: request.requestId,
        queue: request.queue,
        eventIds: [...request.eventIds],
        reason: request.reason,
      });
    },

    async recordChannelOrderView(request) {
      const v = new Violations();
      const view = request.view;
      if (!view) v.add("view", "is required");
      else {
        v.require("view.channel_id", view.channelId);
        v.require("view.order_id", view.orderId);
        if (view.status === OrderStatus.UNSPECIFIED || !Object.values(OrderStatus).includes(view.status))
          v.add("view.status", "must be an order status");
        if (!view.observeTime) v.add("view.observe_time", "is required");
        else if (timestampMs(view.observeTime) > deps.clock.now().getTime() + 300_000)
          v.add("view.observe_time", "must not be more than five minutes in the future");
      }
      v.throwIfAny();
      return { view: await recordChannelView(deps, create(ChannelOrderViewSchema, view)) };
    },

    async listChannelOrderViews(request) {
      const v = new Violations();
      if (request.pageSize < 0 || request.pageSize > 500) v.add("page_size", "must be 0-500");
      v.throwIfAny();
      return {
        views: request.orderId
          ? await deps.channelViews.ofOrder(request.orderId)
          : await deps.channelViews.diverged(request.pageSize || 100),
      };
    },

    async listOperationalExceptions(request) {
      const v = new Violations();
      if (!Object.values(ExceptionKind).includes(request.kind))
        v.add("kind", "must be an exception kind, or unspecified for every kind");
      const olderThanMs = request.olderThan ? durationMs(request.olderThan) : 0;
      if (olderThanMs < 0) v.add("older_than", "must not be negative");
      const pageSize = checkPageRequest(v, request, { max: maxPageSize, default: 50 });
      v.throwIfAny();
      return deps.exceptions.list({
        ...(request.kind !== ExceptionKind.UNSPECIFIED && { kind: request.kind }),
        ...(olderThanMs > 0 && { sinceAtMost: new Date(deps.clock.now().getTime() - olderThanMs) }),
        ...(request.sourceSystem && { sourceSystem: request.sourceSystem }),
        includeResolved: request.includeResolved,
        pageSize,
        pageToken: request.pageToken,
      });
    },
  };
}

import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, type ServiceImpl } from "@connectrpc/connect";
import { ChannelSchema } from "@retail/contracts/retail/common/v1/common_pb";
import { OrderStatusSchema } from "@retail/contracts/retail/order/v1/order_pb";
import {
  AcknowledgeMarketplaceOrderRequestSchema,
  CancelOrderRequestSchema,
  MarkReadyForPickupRequestSchema,
  type OrderService,
  RecordPaymentEventRequestSchema,
  RecordPickupRequestSchema,
  RecordReturnRequestSchema,
  RecordShipmentRequestSchema,
  SubmitOrderRequestSchema,
} from "@retail/contracts/retail/order/v1/order_service_pb";
import { errorWithInfo } from "@retail/platform/rpc";
import { checkPageRequest, fingerprint, requestOf } from "@retail/platform/store";
import { acknowledgeMarketplaceOrder } from "../app/acknowledge-marketplace-order.js";
import { cancelOrder } from "../app/cancel-order.js";
import { markReadyForPickup } from "../app/mark-ready-for-pickup.js";
import type { OrderDeps } from "../app/ports.js";
import { recordOrderPickup } from "../app/record-order-pickup.js";
import { recordPaymentEvent } from "../app/record-payment-event.js";
import { recordReturn } from "../app/record-return.js";
import { recordShipment } from "../app/record-shipment.js";
import { orderIdOf, submitOrder } from "../app/submit-order.js";
import { UnknownOrder } from "../domain/errors.js";
import { createTaxHandler } from "./tax-handler.js";
import {
  checkId,
  checkLineQuantities,
  checkPaymentEvent,
  checkReturn,
  checkShipment,
  checkSubmission,
  known,
  Violations,
} from "./validation.js";

const defaultPageSize = 50;
const maxPageSize = 500;

/** OrderService over Connect: request in, validated command, use case, response out. */
export function createOrderHandler(
  deps: OrderDeps,
  options: { pickupHoldMs: number },
): ServiceImpl<typeof OrderService> {
  const target = (requestId: string, orderId: string) => {
    const v = new Violations();
    checkId(v, "request_id", requestId);
    checkId(v, "order_id", orderId);
    return v;
  };

  return {
    ...createTaxHandler(deps),

    async submitOrder(request) {
      const v = new Violations();
      checkSubmission(v, request);
      v.throwIfAny();
      if (!request.customer) throw new Error("validated above");
      const order = await submitOrder(deps, {
        request: requestOf(SubmitOrderRequestSchema, request),
        channel: request.channel,
        channelOrderId: request.channelOrderId,
        channelId: request.channelId,
        customer: request.customer,
        lines: request.lines,
        shipTo: request.shipTo,
        orderDiscount: request.orderDiscount,
        shippingCharge: request.shippingCharge,
        currencyCode: request.currencyCode,
        placeTime: request.placeTime ? timestampDate(request.placeTime) : undefined,
      });
      return { order };
    },

    async getOrder(request) {
      const v = new Violations();
      checkId(v, "order_id", request.orderId);
      v.throwIfAny();
      const order = await deps.streams.load(request.orderId);
      if (!order) throw new UnknownOrder(request.orderId);
      return { order };
    },

    async lookupOrder(request) {
      const v = new Violations();
      if (request.paymentReference) {
        checkId(v, "payment_reference", request.paymentReference);
        if (request.channel || request.channelId || request.channelOrderId)
          v.add("payment_reference", "names the order alone: give it or a channel's key, not both");
        v.throwIfAny();
        const orderId = await deps.views.withPaymentReference(request.paymentReference);
        const order = orderId ? await deps.streams.load(orderId) : undefined;
        if (!order)
          throw errorWithInfo(
            Code.NotFound,
            "ORDER_NOT_FOUND",
            `no order has a payment ${request.paymentReference}`,
            { payment_reference: request.paymentReference },
          );
        return { order };
      }
      if (!known(ChannelSchema, request.channel)) v.add("channel", "must be a known channel");
      checkId(v, "channel_order_id", request.channelOrderId);
      if (request.channelId) checkId(v, "channel_id", request.channelId);
      v.throwIfAny();
      // A channel's order is one order: its id follows from the channel's key, as SubmitOrder made it.
      const order = await deps.streams.load(
        orderIdOf(request.channel, request.channelId, request.channelOrderId),
      );
      if (!order)
        throw errorWithInfo(
          Code.NotFound,
          "ORDER_NOT_FOUND",
          `no order ${request.channelOrderId} from this channel`,
          { channel_order_id: request.channelOrderId },
        );
      return { order };
    },

    async listOrders(request) {
      const v = new Violations();
      if (request.channel && !ChannelSchema.values.some((c) => c.number === request.channel))
        v.add("channel", "must be a known channel");
      if (request.status && !OrderStatusSchema.values.some((s) => s.number === request.status))
        v.add("status", "must be a known order status");
      const pageSize = checkPageRequest(v, request, { max: maxPageSize, default: defaultPageSize });
      v.throwIfAny();
      const page = await deps.views.list(
        {
          ...(request.customerId ? { customerId: request.customerId } : {}),
          ...(request.channel ? { channel: request.channel } : {}),
          ...(request.status ? { status: request.status } : {}),
          ...(request.updatedSince ? { updatedSince: timestampDate(request.updatedSince) } : {}),
        },
        pageSize,
        request.pageToken,
      );
      return page;
    },

    async cancelOrder(request) {
      const v = target(request.requestId, request.orderId);
      checkLineQuantities(v, "lines", request.lines);
      if (request.resource && request.lines.length === 0) v.add("lines", "must name the lines to re-source");
      v.throwIfAny();
      const order = await cancelOrder(deps, {
        request: requestOf(CancelOrderRequestSchema, request),
        orderId: request.orderId,
        lines: request.lines,
        reason: request.reason,
        resource: request.resource,
      });
      return { order };
    },

    async recordShipment(request) {
      const v = target(request.requestId, request.orderId);
      checkShipment(v, request.shipment);
      v.throwIfAny();
      if (!request.shipment) throw new Error("validated above");
      return {
        order: await recordShipment(
          deps,
          requestOf(RecordShipmentRequestSchema, request),
          request.orderId,
          request.shipment,
        ),
      };
    },

    async markReadyForPickup(request) {
      const v = target(request.requestId, request.orderId);
      const collectBy = request.collectByTime
        ? timestampDate(request.collectByTime)
        : new Date(deps.clock.now().getTime() + options.pickupHoldMs);
      if (collectBy.getTime() <= deps.clock.now().getTime())
        v.add("collect_by_time", "must be in the future");
      v.throwIfAny();
      const order = await markReadyForPickup(deps, {
        request: requestOf(MarkReadyForPickupRequestSchema, request),
        orderId: request.orderId,
        lineIds: request.lineIds,
        collectBy,
      });
      return { order };
    },

    async recordPickup(request) {
      const v = target(request.requestId, request.orderId);
      v.throwIfAny();
      const order = await recordOrderPickup(deps, {
        request: requestOf(RecordPickupRequestSchema, request),
        orderId: request.orderId,
        lineIds: request.lineIds,
      });
      return { order };
    },

    async recordReturn(request) {
      const v = target(request.requestId, request.orderId);
      checkReturn(v, request.return);
      v.throwIfAny();
      if (!request.return) throw new Error("validated above");
      return {
        order: await recordReturn(
          deps,
          requestOf(RecordReturnRequestSchema, request),
          request.orderId,
          request.return,
        ),
      };
    },

    async recordPaymentEvent(request) {
      const v = new Violations();
      checkId(v, "order_id", request.orderId);
      checkPaymentEvent(v, request.paymentEvent);
      v.throwIfAny();
      if (!request.paymentEvent) throw new Error("validated above");
      // A payment event has no request id of its own: the gateway's event id is one.
      const paid = {
        id: request.paymentEvent.paymentEventId,
        fingerprint: fingerprint(RecordPaymentEventRequestSchema, request),
      };
      return { order: await recordPaymentEvent(deps, paid, request.orderId, request.paymentEvent) };
    },

    async acknowledgeMarketplaceOrder(request) {
      const v = target(request.requestId, request.orderId);
      v.throwIfAny();
      return {
        order: await acknowledgeMarketplaceOrder(
          deps,
          requestOf(AcknowledgeMarketplaceOrderRequestSchema, request),
          request.orderId,
        ),
      };
    },
  };
}

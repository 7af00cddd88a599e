// A client bound to a sales channel (a marketplace, one store system) sees and changes only that
// channel's orders. Submitting for another channel is refused; listing is narrowed to the channel (and
// to the client's channel id, filtered from each page); any other order operation first reads the order
// and answers NOT_FOUND when it belongs to someone else, exactly as if it did not exist (a lookup by the
// channel's own order id likewise).
import {
  create,
  type DescMethod,
  type Message,
  type MessageInitShape,
  type MessageShape,
} from "@bufbuild/protobuf";
import { Code, type ConnectError } from "@connectrpc/connect";
import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import type { Order } from "@retail/contracts/retail/order/v1/order_pb";
import {
  type ListOrdersRequest,
  type ListOrdersResponse,
  OrderService,
  type SubmitOrderRequest,
} from "@retail/contracts/retail/order/v1/order_service_pb";
import { errorWithInfo } from "@retail/platform/rpc";
import type { ClientConfig } from "./clients.js";

/** Calls a service method with a request message. */
/** Calls a service's method; `timeoutMs` replaces the gateway's request deadline (a long import). */
export type Invoke = (
  method: DescMethod,
  request: Message,
  signal: AbortSignal,
  timeoutMs?: number,
) => Promise<Message>;

/**
 * A typed caller of service methods as the client, its channel binding enforced on order operations,
 * for the several calls one channel message makes: an order it has already read as the client's (by
 * GetOrder or LookupOrder) is not read again before each change (an order's channel never changes).
 */
export function callerFor(client: ClientConfig, invoke: Invoke, signal: AbortSignal) {
  const owned = new Set<string>();
  return <M extends DescMethod>(method: M, message: MessageInitShape<M["input"]>) =>
    invokeForClient(client, method, create(method.input, message), invoke, signal, owned) as Promise<
      MessageShape<M["output"]>
    >;
}

/** The order an order method answered with (every order method answers with one). */
export function orderOf(answer: { order?: Order | undefined }): Order {
  if (!answer.order) throw new Error("the order service answered without the order");
  return answer.order;
}

/**
 * Invokes the method for the client, enforcing its channel binding on order operations. `owned` holds
 * the orders already read as the client's in this piece of work (filled and consulted here).
 */
export async function invokeForClient(
  client: ClientConfig,
  method: DescMethod,
  request: Message,
  invoke: Invoke,
  signal: AbortSignal,
  owned?: Set<string>,
): Promise<Message> {
  if (!client.channel || method.parent.typeName !== OrderService.typeName)
    return invoke(method, request, signal);
  const channel = Channel[client.channel.replace(/^CHANNEL_/, "") as keyof typeof Channel];
  const owns = (order: Order | undefined) =>
    order !== undefined &&
    order.channel === channel &&
    (client.channelId === undefined || order.channelId === client.channelId);
  switch (method.name) {
    case "SubmitOrder": {
      const submit = request as SubmitOrderRequest;
      if (
        submit.channel !== channel ||
        (client.channelId !== undefined && submit.channelId !== client.channelId)
      )
        throw errorWithInfo(
          Code.PermissionDenied,
          "CHANNEL_NOT_ALLOWED",
          `this client submits orders only for ${client.channel}${client.channelId ? ` (${client.channelId})` : ""}`,
          { client: client.id },
        );
      return invoke(method, request, signal);
    }
    case "ListOrders": {
      const list = request as ListOrdersRequest;
      if (list.channel !== Channel.UNSPECIFIED && list.channel !== channel)
        throw errorWithInfo(
          Code.PermissionDenied,
          "CHANNEL_NOT_ALLOWED",
          `this client lists only ${client.channel} orders`,
          { client: client.id },
        );
      list.channel = channel;
      const response = (await invoke(method, list, signal)) as ListOrdersResponse;
      response.orders = response.orders.filter(owns);
      return response;
    }
    case "GetOrder":
    case "LookupOrder": {
      const response = (await invoke(method, request, signal)) as Message & { order?: Order };
      if (!owns(response.order)) throw notFound(request);
      if (response.order) owned?.add(response.order.orderId);
      return response;
    }
    default: {
      const orderId = (request as { orderId?: unknown }).orderId;
      if (typeof orderId === "string" && !owned?.has(orderId)) {
        const get = OrderService.method.getOrder;
        const found = (await invoke(get, create(get.input, { orderId }), signal)) as Message & {
          order?: Order;
        };
        if (!owns(found.order)) throw notFound(request);
      }
      return invoke(method, request, signal);
    }
  }
}

function notFound(request: Message): ConnectError {
  const { orderId, channelOrderId, paymentReference } = request as {
    orderId?: unknown;
    channelOrderId?: unknown;
    paymentReference?: unknown;
  };
  if (typeof paymentReference === "string" && paymentReference)
    return errorWithInfo(Code.NotFound, "ORDER_NOT_FOUND", `no order has a payment ${paymentReference}`, {
      payment_reference: paymentReference,
    });
  if (typeof orderId !== "string" && typeof channelOrderId === "string")
    return errorWithInfo(Code.NotFound, "ORDER_NOT_FOUND", `no order ${channelOrderId} from this channel`, {
      channel_order_id: channelOrderId,
    });
  return errorWithInfo(Code.NotFound, "ORDER_NOT_FOUND", `order ${String(orderId ?? "")} not found`, {
    order_id: String(orderId ?? ""),
  });
}

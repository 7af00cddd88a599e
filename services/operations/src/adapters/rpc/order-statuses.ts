import { Code, ConnectError } from "@connectrpc/connect";
import { OrderService } from "@retail/contracts/retail/order/v1/order_service_pb";
import { createServiceClient, type ServiceKeyring } from "@retail/platform/rpc";
import type { OrderStatuses } from "../../app/ports.js";

/** The order service's answer for an order's status (GetOrder), signed as operations. */
export function createOrderStatuses(
  baseUrl: string,
  options: { keys: ServiceKeyring | undefined; timeoutMs: number },
): OrderStatuses {
  const orders = createServiceClient(OrderService, {
    baseUrl,
    timeoutMs: options.timeoutMs,
    peerAuth: { keys: options.keys, service: "operations" },
  });
  return {
    async statusOf(orderId) {
      try {
        return (await orders.getOrder({ orderId })).order?.status;
      } catch (error) {
        if (ConnectError.from(error).code === Code.NotFound) return undefined;
        throw error;
      }
    },
  };
}

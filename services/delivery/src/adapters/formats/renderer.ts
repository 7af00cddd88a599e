import { DeliveryFormat } from "@retail/contracts/retail/delivery/v1/delivery_pb";
import { redactEvent } from "@retail/platform/domain-events";
import type { DeliveryRenderer, DeliveryStore } from "../../app/ports.js";
import { webhookBody } from "../http/webhook-sender.js";
import type { ControlNumbers } from "../mongo/control-numbers.js";
import type { Erasures } from "../mongo/erasures.js";
import { warehouseShippingOrder } from "./x12-warehouse-order.js";

/**
 * Each subscription's format: the canonical JSON, or an X12 940 whose interchange control number is
 * fixed at the delivery's first attempt (its retries are the same interchange).
 */
export function createRenderer(
  deliveries: DeliveryStore,
  controlNumbers: ControlNumbers,
  erasures: Erasures,
): DeliveryRenderer {
  return {
    async render(subscription, stored, now) {
      // A delivery naming an erased customer goes out without their personal fields, even if a lost
      // write put them back in its stored copy (the erasure sweep writes it again).
      const redacted =
        stored.customerIds.length > 0 && (await erasures.anyOf(stored.customerIds))
          ? redactEvent(stored.type, stored.data)
          : undefined;
      const delivery = redacted ? { ...stored, data: redacted } : stored;
      if (subscription.format !== DeliveryFormat.X12_940)
        return { contentType: "application/json", body: webhookBody(delivery) };
      const parties = subscription.x12;
      if (!parties) return undefined;
      const control =
        delivery.controlNumber ??
        (await deliveries.assignControlNumber(
          delivery.deliveryId,
          await controlNumbers.next(subscription.subscriptionId),
        ));
      return warehouseShippingOrder(
        { type: delivery.type, data: delivery.data, time: delivery.eventTime },
        { parties, locations: subscription.filter?.locationIds ?? [], control, now },
      );
    },
  };
}

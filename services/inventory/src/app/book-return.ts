import { MovementType } from "@retail/contracts/retail/inventory/v1/inventory_pb";
import { plainMovement } from "../domain/stock-position.js";
import type { MovementDeps } from "./apply-movement.js";
import { recordMovement } from "./record-movement.js";

/** A return an order recorded (its OrderReturned event), as inventory books it. */
export interface OrderReturn {
  readonly orderId: string;
  readonly returnId: string;
  readonly locationId: string;
  readonly receiveTime: Date | undefined;
  readonly lines: ReadonlyArray<{
    readonly lineId: string;
    readonly sku: string;
    readonly quantity: number;
    readonly damaged: boolean;
  }>;
}

/**
 * Books returned goods back into stock where they were received: sellable, or on hand and damaged.
 * One movement per order, return and line (`return:<order>:<return>:<line>`), so a redelivered event
 * books nothing twice and two orders may each call a return "R1".
 */
export async function bookReturn(deps: MovementDeps, received: OrderReturn): Promise<number> {
  for (const line of received.lines) {
    await recordMovement(
      deps,
      plainMovement({
        movementId: `return:${received.orderId}:${received.returnId}:${line.lineId}`,
        type: line.damaged ? MovementType.RETURN_TO_DAMAGED : MovementType.RETURN_TO_SELLABLE,
        sku: line.sku,
        locationId: received.locationId,
        quantity: line.quantity,
        sourceSystem: "order",
        ...(received.receiveTime ? { occurTime: received.receiveTime } : {}),
      }),
    );
  }
  return received.lines.length;
}

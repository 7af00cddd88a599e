import type { OrderDeps } from "./ports.js";

/**
 * What the order service holds of an erased customer, rewritten without personal data: every stored
 * event of the customer's orders (ship-to street, town, postal code and recipient; free text of
 * returns, cancellations and payments), the orders read model, and the details kept for sagas still
 * running. Ids, amounts and statuses stay under the customer's pseudonymous id. Running it again
 * changes nothing more.
 */
export async function eraseCustomerOrders(
  deps: Pick<OrderDeps, "streams" | "views" | "sagas" | "logger">,
  customerId: string,
): Promise<number> {
  const orderIds = await deps.views.ordersOf(customerId);
  for (const orderId of orderIds) {
    await deps.streams.redact(orderId);
    const order = await deps.streams.load(orderId);
    if (order) await deps.views.rewrite(order);
  }
  const sagas = await deps.sagas.redactFor(customerId);
  deps.logger.info(
    { customerId, orders: orderIds.length, sagas },
    "erased a customer's personal data from orders",
  );
  return orderIds.length;
}

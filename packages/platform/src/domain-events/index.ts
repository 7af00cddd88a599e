// Every domain event the mesh publishes, by CloudEvents type, and what a consumer of all of them (outbound
// delivery, operations) does with one: read it as JSON, or empty its personal fields.
import { createRegistry, fromBinary, type JsonValue, toBinary, toJson } from "@bufbuild/protobuf";
import { file_retail_admin_v1_admin } from "@retail/contracts/retail/admin/v1/admin_pb";
import { file_retail_customer_v1_customer_events } from "@retail/contracts/retail/customer/v1/customer_events_pb";
import { file_retail_delivery_v1_delivery_events } from "@retail/contracts/retail/delivery/v1/delivery_events_pb";
import { file_retail_finance_v1_finance_events } from "@retail/contracts/retail/finance/v1/finance_events_pb";
import { file_retail_inventory_v1_inventory_events } from "@retail/contracts/retail/inventory/v1/inventory_events_pb";
import { file_retail_operations_v1_operations_events } from "@retail/contracts/retail/operations/v1/operations_events_pb";
import { file_retail_order_v1_order_events } from "@retail/contracts/retail/order/v1/order_events_pb";
import { redactPersonal } from "../personal/index.js";

/**
 * Every event the mesh publishes, by CloudEvents type (the protobuf type name): the domains' and the
 * delivery service's, operations' (order drift), and the platform's admin audit records.
 */
export const domainEvents = createRegistry(
  file_retail_admin_v1_admin,
  file_retail_delivery_v1_delivery_events,
  file_retail_customer_v1_customer_events,
  file_retail_inventory_v1_inventory_events,
  file_retail_order_v1_order_events,
  file_retail_finance_v1_finance_events,
  file_retail_operations_v1_operations_events,
);

/**
 * An event's protobuf JSON form (field names in lowerCamelCase, enums by name, 64-bit integers as
 * strings, money exact), or undefined for a type this build does not know.
 */
export function eventJson(
  type: string,
  data: Uint8Array,
  options: { withDefaults?: boolean } = {},
): JsonValue | undefined {
  const schema = domainEvents.getMessage(type);
  if (!schema) return undefined;
  return toJson(schema, fromBinary(schema, data), {
    registry: domainEvents,
    alwaysEmitImplicit: options.withDefaults ?? false,
  });
}

/** An event's encoding with every personal field emptied; undefined for a type this build does not know. */
export function redactEvent(type: string, data: Uint8Array): Uint8Array | undefined {
  const schema = domainEvents.getMessage(type);
  return schema ? toBinary(schema, redactPersonal(schema, fromBinary(schema, data))) : undefined;
}

/**
 * An event's JSON form as it is and with every personal field emptied (what an operator may read of
 * it), from one decoding; undefined for a type this build does not know.
 */
export function eventJsonForms(
  type: string,
  data: Uint8Array,
): { json: JsonValue; redacted: JsonValue } | undefined {
  const schema = domainEvents.getMessage(type);
  if (!schema) return undefined;
  const message = fromBinary(schema, data);
  const json = toJson(schema, message, { registry: domainEvents });
  return { json, redacted: toJson(schema, redactPersonal(schema, message), { registry: domainEvents }) };
}

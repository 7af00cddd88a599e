import { CustomerIdentityService } from "@retail/contracts/retail/customer/v1/customer_service_pb";
import { FinancePostingService } from "@retail/contracts/retail/finance/v1/finance_service_pb";
import { InventoryService } from "@retail/contracts/retail/inventory/v1/inventory_service_pb";
import { OrderService } from "@retail/contracts/retail/order/v1/order_service_pb";
import { describe, expect, it } from "vitest";
import { createRouteTable } from "./route-table.js";

const table = createRouteTable([
  CustomerIdentityService,
  InventoryService,
  OrderService,
  FinancePostingService,
]);

function found(verb: string, path: string) {
  const match = table.match(verb, path);
  return match.kind === "found"
    ? { method: match.route.binding.method.name, values: Object.fromEntries(match.pathValues) }
    : match;
}

describe("route table", () => {
  it("has a route for every binding of every annotated RPC", () => {
    const bindings =
      [CustomerIdentityService, InventoryService, OrderService, FinancePostingService].flatMap(
        (s) => s.methods,
      ).length + 2;
    expect(table.routes).toHaveLength(bindings); // GetAvailability has two additional bindings
  });

  it("routes custom verbs, plain templates and additional bindings", () => {
    expect(found("POST", "/v1/orders/o-1:cancel")).toEqual({
      method: "CancelOrder",
      values: { order_id: "o-1" },
    });
    expect(found("GET", "/v1/orders/o-1")).toEqual({ method: "GetOrder", values: { order_id: "o-1" } });
    expect(found("GET", "/v1/customers:lookup")).toEqual({ method: "LookupCustomer", values: {} });
    expect(found("GET", "/v1/customers/c-1")).toEqual({
      method: "GetCustomer",
      values: { customer_id: "c-1" },
    });
    expect(found("GET", "/v1/channels/web/skus/A-1/availability")).toEqual({
      method: "GetAvailability",
      values: { channel_id: "web", sku: "A-1" },
    });
    expect(found("GET", "/v1/locations/ST-1/skus/A-1/availability")).toEqual({
      method: "GetAvailability",
      values: { location_id: "ST-1", sku: "A-1" },
    });
  });

  it("tells a wrong method from an unknown path", () => {
    expect(table.match("DELETE", "/v1/orders/o-1")).toEqual({ kind: "method-not-allowed", allow: ["GET"] });
    expect(table.match("GET", "/v1/warehouses")).toEqual({ kind: "not-found" });
  });
});

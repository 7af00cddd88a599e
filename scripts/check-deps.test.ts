import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkImport, checkRepository } from "./check-deps.ts";

const inventory = (path: string) => join("services", "inventory", "src", ...path.split("/"));

describe("dependency rules", () => {
  it("keeps the domain free of drivers, app code and adapters", () => {
    expect(checkImport(inventory("domain/stock-position.ts"), "mongodb")).toMatch(/domain uses only/);
    expect(checkImport(inventory("domain/stock-position.ts"), "../app/ports.js")).toMatch(
      /domain may not import app/,
    );
    expect(checkImport(inventory("domain/stock-position.ts"), "./errors.js")).toBeUndefined();
    expect(
      checkImport(
        inventory("domain/stock-position.ts"),
        "@retail/contracts/retail/inventory/v1/inventory_events_pb",
      ),
    ).toBeUndefined();
  });

  it("keeps request and response messages out of the domain, but for the value messages named with a reason", () => {
    const order = (path: string) => join("services", "order", "src", ...path.split("/"));
    const service = "@retail/contracts/retail/order/v1/order_service_pb";
    expect(checkImport(order("domain/order.ts"), service, ["SubmitOrderRequest"])).toMatch(
      /domain imports no request or response messages \(SubmitOrderRequest\)/,
    );
    expect(checkImport(order("domain/order.ts"), service, ["LineAmounts", "*"])).toMatch(/\(\*\)/);
    expect(checkImport(order("domain/order-changes.ts"), service, ["LineAmounts", "LineAmountsSchema"])).toBe(
      undefined,
    );
    expect(checkImport(order("api/order-handler.ts"), service, ["SubmitOrderRequestSchema"])).toBeUndefined();
  });

  it("lets use cases use the domain and ports but not drivers, handlers or adapters", () => {
    expect(checkImport(inventory("app/reserve-stock.ts"), "../domain/stock-position.js")).toBeUndefined();
    expect(checkImport(inventory("app/reserve-stock.ts"), "./ports.js")).toBeUndefined();
    expect(checkImport(inventory("app/reserve-stock.ts"), "../adapters/mongo/stock-streams.js")).toMatch(
      /app may not import adapters/,
    );
    expect(checkImport(inventory("app/reserve-stock.ts"), "../api/inventory-handler.js")).toMatch(
      /app may not import api/,
    );
    expect(checkImport(inventory("app/reserve-stock.ts"), "@connectrpc/connect")).toMatch(/drivers stay/);
    expect(checkImport(inventory("app/reserve-stock.ts"), "@retail/platform/store")).toBeUndefined();
    expect(checkImport(inventory("app/reserve-stock.ts"), "@retail/platform/rpc")).toMatch(
      /app uses only these platform modules: store, log, money, personal \(not rpc\)/,
    );
  });

  it("allows drivers in adapters, handlers and the composition root", () => {
    expect(checkImport(inventory("adapters/mongo/stock-streams.ts"), "mongodb")).toBeUndefined();
    expect(checkImport(inventory("api/inventory-handler.ts"), "@connectrpc/connect")).toBeUndefined();
    expect(checkImport(inventory("compose.ts"), "amqp-connection-manager")).toBeUndefined();
  });

  it("finds no violation in the repository as it stands", () => {
    expect(checkRepository()).toEqual([]);
  });
});

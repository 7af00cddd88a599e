import { create, fromJsonString, toBinary } from "@bufbuild/protobuf";
import { CustomerSchema } from "@retail/contracts/retail/customer/v1/customer_pb";
import { StockMovementSchema } from "@retail/contracts/retail/inventory/v1/inventory_pb";
import { ReserveStockRequestSchema } from "@retail/contracts/retail/inventory/v1/inventory_service_pb";
import { describe, expect, it } from "vitest";
import { eventRequest, fingerprint, internalRequest, requestOf } from "./requests.js";

describe("fingerprint", () => {
  it("is the same for the same request whatever the JSON spelling and field order", () => {
    const a = fromJsonString(
      ReserveStockRequestSchema,
      '{"requestId":"r-1","orderId":"o-1","lines":[{"lineId":"1","sku":"SKU-1","quantity":"2"}]}',
    );
    const b = fromJsonString(
      ReserveStockRequestSchema,
      '{ "lines": [ { "quantity": 2, "sku": "SKU-1", "lineId": "1" } ], "order_id": "o-1", "request_id": "r-1" }',
    );
    expect(fingerprint(ReserveStockRequestSchema, a)).toBe(fingerprint(ReserveStockRequestSchema, b));
    expect(requestOf(ReserveStockRequestSchema, a)).toEqual({
      id: "r-1",
      fingerprint: fingerprint(ReserveStockRequestSchema, b),
    });
  });

  it("differs when anything asked differs, and between message types with the same bytes", () => {
    const base = { requestId: "r-1", orderId: "o-1", lines: [{ lineId: "1", sku: "SKU-1", quantity: 2n }] };
    const one = fingerprint(ReserveStockRequestSchema, create(ReserveStockRequestSchema, base));
    const more = create(ReserveStockRequestSchema, { ...base, lines: [{ ...base.lines[0], quantity: 3n }] });
    expect(fingerprint(ReserveStockRequestSchema, more)).not.toBe(one);
    const empty = fingerprint(StockMovementSchema, create(StockMovementSchema));
    expect(toBinary(CustomerSchema, create(CustomerSchema))).toEqual(
      toBinary(StockMovementSchema, create(StockMovementSchema)),
    );
    expect(fingerprint(CustomerSchema, create(CustomerSchema))).not.toBe(empty);
  });

  it("puts map entries in key order: the order they were set in does not count", () => {
    const a = create(CustomerSchema, {
      customerId: "c-1",
      attributeSources: { email: "web", phone: "pos", "10": "x" },
    });
    const b = create(CustomerSchema, {
      customerId: "c-1",
      attributeSources: { phone: "pos", "10": "x", email: "web" },
    });
    expect(toBinary(CustomerSchema, a)).not.toEqual(toBinary(CustomerSchema, b));
    expect(fingerprint(CustomerSchema, a)).toBe(fingerprint(CustomerSchema, b));
    expect(a.attributeSources).toEqual({ email: "web", phone: "pos", "10": "x" }); // the message is not changed
  });

  it("names events and the mesh's own requests apart from callers' requests", () => {
    const movement = create(StockMovementSchema, { sku: "SKU-1" });
    expect(eventRequest(StockMovementSchema, movement, "evt-1")).toEqual({
      id: "evt-1",
      fingerprint: fingerprint(StockMovementSchema, movement),
    });
    expect(internalRequest("expiry").fingerprint).toBe(internalRequest("expiry").fingerprint);
    expect(internalRequest("expiry").fingerprint).not.toBe(internalRequest("expiry:2").fingerprint);
  });
});

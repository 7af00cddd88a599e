import type { DescMessage, DescMethod, MessageShape } from "@bufbuild/protobuf";
import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import {
  type ChannelRule,
  ChannelRuleSchema,
  FulfillmentPromise,
  MovementType,
} from "@retail/contracts/retail/inventory/v1/inventory_pb";
import {
  InventoryService,
  type ReserveStockRequest,
  ReserveStockRequestSchema,
} from "@retail/contracts/retail/inventory/v1/inventory_service_pb";
import { OrderStatus } from "@retail/contracts/retail/order/v1/order_pb";
import { OrderService } from "@retail/contracts/retail/order/v1/order_service_pb";
import { RequestInvalid } from "@retail/platform/rpc";
import { describe, expect, it } from "vitest";
import { type HttpBinding, httpBindings } from "./http-rule.js";
import { matchPathTemplate } from "./path-template.js";
import { decodeRequest, type HttpRequestParts } from "./request-decoder.js";

function decode<I extends DescMessage>(
  method: DescMethod & { input: I },
  path: string,
  parts: Partial<HttpRequestParts>,
): MessageShape<I> {
  const [binding] = httpBindings(method);
  if (!binding) throw new Error("no binding");
  const pathValues = matchPathTemplate(binding.template, path);
  if (!pathValues) throw new Error(`${path} does not match ${binding.template.source}`);
  const parsed = {
    pathValues,
    query: new URLSearchParams(),
    body: undefined,
    requestId: undefined,
    ...parts,
  };
  // The binding is of `method`, whose input is I.
  return decodeRequest(binding, parsed) as unknown as MessageShape<I>;
}

function violations(run: () => unknown) {
  try {
    run();
  } catch (error) {
    if (error instanceof RequestInvalid) return error.violations;
    throw error;
  }
  throw new Error("expected the request to be refused");
}

describe("request decoding", () => {
  it("takes path variables, query parameters by JSON or proto name, enums by name and timestamps as text", () => {
    const request = decode(OrderService.method.listOrders, "/v1/orders", {
      query: new URLSearchParams(
        "channel=CHANNEL_WEB&status=ORDER_STATUS_ACCEPTED&updatedSince=2026-11-01T00:00:00Z&page_size=20",
      ),
    });
    expect(request.channel).toBe(Channel.WEB);
    expect(request.status).toBe(OrderStatus.ACCEPTED);
    expect(request.updatedSince?.seconds).toBe(BigInt(Date.parse("2026-11-01T00:00:00Z") / 1000));
    expect(request.pageSize).toBe(20);
  });

  it("puts a body field under its name, the rest from the path, and the Idempotency-Key as request id", () => {
    const request = decode(OrderService.method.recordShipment, "/v1/orders/o-1/shipments", {
      body: {
        shipmentId: "s-1",
        lines: [{ lineId: "l-1", quantity: "2" }],
        shipTime: "2026-11-26T10:00:00Z",
      },
      requestId: "wms:key-1",
    });
    expect(request.requestId).toBe("wms:key-1");
    expect(request.orderId).toBe("o-1");
    expect(request.shipment?.lines[0]?.quantity).toBe(2n);
    const movement = decode(InventoryService.method.recordMovement, "/v1/movements", {
      body: {
        movementId: "m-1",
        type: "MOVEMENT_TYPE_GOODS_RECEIPT",
        sku: "SKU-1",
        locationId: "DC-1",
        quantity: 5,
      },
    });
    expect(movement.movement?.type).toBe(MovementType.GOODS_RECEIPT);
    expect(movement.movement?.quantity).toBe(5n);
  });

  it("sets a nested path variable inside the body field and refuses a body that says otherwise", () => {
    const request = decode(InventoryService.method.upsertLocation, "/v1/locations/ST-1", {
      body: { name: "Store 1" },
    });
    expect(request.location?.locationId).toBe("ST-1");
    expect(
      violations(() =>
        decode(InventoryService.method.upsertLocation, "/v1/locations/ST-1", {
          body: { locationId: "ST-2" },
        }),
      ),
    ).toEqual([
      { field: "location.location_id", description: 'is "ST-1" in the path but "ST-2" in the body' },
    ]);
  });

  it("names every broken rule with its field path", () => {
    const found = violations(() =>
      decode(OrderService.method.submitOrder, "/v1/orders", {
        body: {
          channel: "CHANNEL_TELEPATHY",
          lines: [
            { sku: "A", quantity: 1.5 },
            { sku: 7, quantity: "99999999999999999999" },
          ],
          requestId: "mine",
          $where: "1",
          shipTo: "nowhere",
        },
      }),
    );
    expect(found.map((v) => v.field)).toEqual([
      "channel",
      "lines[0].quantity",
      "lines[1].sku",
      "lines[1].quantity",
      "$where",
      "ship_to",
      "request_id",
    ]);
    expect(found[0]?.description).toMatch(/^must be one of CHANNEL_UNSPECIFIED, CHANNEL_WEB/);
    expect(found[3]?.description).toBe("must be between -9223372036854775808 and 9223372036854775807");
    expect(found[6]?.description).toBe("is set from the Idempotency-Key header, not the body");
  });

  it("refuses unknown, repeated, bound and body-only query parameters", () => {
    expect(
      violations(() =>
        decode(OrderService.method.listOrders, "/v1/orders", {
          query: new URLSearchParams("pageSize=1&pageSize=2&colour=red"),
        }),
      ),
    ).toEqual([
      { field: "colour", description: "unknown query parameter for retail.order.v1.ListOrdersRequest" },
      { field: "page_size", description: "must be given once" },
    ]);
    expect(
      violations(() =>
        decode(OrderService.method.getOrder, "/v1/orders/o-1", { query: new URLSearchParams("orderId=o-2") }),
      ),
    ).toEqual([{ field: "order_id", description: "is already bound by the path or the body" }]);
    expect(
      violations(() =>
        decode(OrderService.method.cancelOrder, "/v1/orders/o-1:cancel", {
          body: {},
          query: new URLSearchParams("reason=x"),
        }),
      ),
    ).toEqual([
      {
        field: "reason",
        description: "unknown query parameter: this operation reads its fields from the body",
      },
    ]);
    // Found by the fuzzing of every route: a parameter without a name was refused without naming anything.
    expect(
      violations(() =>
        decode(OrderService.method.listOrders, "/v1/orders", { query: new URLSearchParams("=x") }),
      ),
    ).toEqual([{ field: "(query string)", description: "has a parameter without a name" }]);
  });

  it("refuses a body on an operation without one, and a non-object body", () => {
    expect(
      violations(() => decode(OrderService.method.getOrder, "/v1/orders/o-1", { body: { x: 1 } })),
    ).toEqual([{ field: "(body)", description: "this operation takes no body" }]);
    expect(
      violations(() => decode(OrderService.method.cancelOrder, "/v1/orders/o-1:cancel", { body: [1, 2] })),
    ).toEqual([{ field: "(body)", description: "must be a JSON object" }]);
  });

  it("reads repeated fields from repeated parameters and well-known types from their strings", () => {
    // A GET binding over ReserveStockRequest's siblings: repeated string and enum, int64, Duration.
    const binding = {
      ...(httpBindings(InventoryService.method.getAvailability)[0] as HttpBinding),
      method: { ...InventoryService.method.reserveStock, input: ChannelRuleSchema } as unknown as DescMethod,
      pathFields: new Map(),
    };
    const rule = decodeRequest(binding, {
      pathValues: new Map(),
      query: new URLSearchParams(
        "locationIds=DC-1&location_ids=ST%201&promises=FULFILLMENT_PROMISE_SHIP_FROM_DC&promises=2&bufferUnits=3",
      ),
      body: undefined,
      requestId: undefined,
    }) as unknown as ChannelRule;
    expect(rule.locationIds).toEqual(["DC-1", "ST 1"]);
    expect(rule.promises).toEqual([FulfillmentPromise.SHIP_FROM_DC, FulfillmentPromise.SHIP_FROM_STORE]);
    expect(rule.bufferUnits).toBe(3n);
    const reserve = {
      ...binding,
      method: {
        ...InventoryService.method.reserveStock,
        input: ReserveStockRequestSchema,
      } as unknown as DescMethod,
    };
    const request = decodeRequest(reserve, {
      pathValues: new Map(),
      query: new URLSearchParams("orderId=o-1&ttl=1.5s"),
      body: undefined,
      requestId: undefined,
    }) as unknown as ReserveStockRequest;
    expect(request.ttl).toMatchObject({ seconds: 1n, nanos: 500_000_000 });
    expect(() =>
      decodeRequest(reserve, {
        pathValues: new Map(),
        query: new URLSearchParams("ttl=soon"),
        body: undefined,
        requestId: undefined,
      }),
    ).toThrow(RequestInvalid);
  });
});

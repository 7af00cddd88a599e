import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { BadRequestSchema, ErrorInfoSchema } from "@retail/contracts/google/rpc/error_details_pb";
import { InventoryService } from "@retail/contracts/retail/inventory/v1/inventory_service_pb";
import { OperationsService } from "@retail/contracts/retail/operations/v1/operations_service_pb";
import { OrderService } from "@retail/contracts/retail/order/v1/order_service_pb";
import { RequestInvalid, toConnectError } from "@retail/platform/rpc";
import { describe, expect, it } from "vitest";
import { clientFieldPath, inClientSpelling } from "./field-paths.js";
import { httpBindings } from "./http-rule.js";

const [submitOrder] = httpBindings(OrderService.method.submitOrder);
const [getOrder] = httpBindings(OrderService.method.getOrder);
const [recordMovement] = httpBindings(InventoryService.method.recordMovement);
const [recordView] = httpBindings(OperationsService.method.recordChannelOrderView);

describe("field paths in the client's spelling", () => {
  it("names fields by their JSON names, through nested and repeated fields", () => {
    if (!submitOrder || !recordView || !getOrder) throw new Error("no binding");
    expect(clientFieldPath(submitOrder, "lines[0].unit_price")).toBe("lines[0].unitPrice");
    expect(clientFieldPath(submitOrder, "ship_to.administrative_area")).toBe("shipTo.administrativeArea");
    expect(clientFieldPath(recordView, "view.observe_time")).toBe("view.observeTime");
    // A path variable keeps its JSON name too.
    expect(clientFieldPath(getOrder, "order_id")).toBe("orderId");
  });

  it("starts at the body for a route whose body is one field, and keeps what names no field as it came", () => {
    if (!recordMovement || !submitOrder) throw new Error("no binding");
    expect(clientFieldPath(recordMovement, "movement.location_id")).toBe("locationId");
    // An unknown key the client sent inside the body: their own spelling.
    expect(clientFieldPath(recordMovement, "movement.movement")).toBe("movement");
    for (const other of ["(body)", "Idempotency-Key", "row 4: price-amount", "lines[0].no_such_field"])
      expect(clientFieldPath(submitOrder, other)).toBe(other);
  });

  it("rewrites a refusal's violations and message, keeping its other details", () => {
    if (!recordView) throw new Error("no binding");
    const refused = toConnectError(
      new RequestInvalid([{ field: "view.channel_id", description: "is required" }]),
    );
    refused.details.push({ desc: ErrorInfoSchema, value: create(ErrorInfoSchema, { reason: "X" }) });
    const spelled = inClientSpelling(refused, recordView) as ConnectError;
    expect(spelled.code).toBe(Code.InvalidArgument);
    expect(spelled.rawMessage).toBe("invalid request: view.channelId: is required");
    expect(spelled.findDetails(BadRequestSchema)[0]?.fieldViolations.map((v) => v.field)).toEqual([
      "view.channelId",
    ]);
    expect(spelled.findDetails(ErrorInfoSchema)[0]?.reason).toBe("X");
    const other = new ConnectError("gone", Code.NotFound);
    expect(inClientSpelling(other, recordView)).toBe(other);
  });
});

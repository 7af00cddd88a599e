import { create } from "@bufbuild/protobuf";
import { CustomerSchema } from "@retail/contracts/retail/customer/v1/customer_pb";
import { SubmitOrderRequestSchema } from "@retail/contracts/retail/order/v1/order_service_pb";
import { describe, expect, it } from "vitest";
import { nulViolations } from "./text-rules.js";

describe("NUL in request text", () => {
  it("names every string that holds one, at any depth, in lists and in maps", () => {
    const request = create(SubmitOrderRequestSchema, {
      requestId: "r-1",
      channelOrderId: "web\u0000-1",
      lines: [{ sku: "SKU-1" }, { sku: "SKU\u0000" }],
      shipTo: { lines: ["1 Main St", "\u0000"], locality: "New York" },
    });
    expect(nulViolations(SubmitOrderRequestSchema, request).map((v) => v.field)).toEqual([
      "channel_order_id",
      "lines[1].sku",
      "ship_to.lines[1]",
    ]);
    const customer = create(CustomerSchema, {
      attributeSources: { "email\u0000": "web", phone: "pos\u0000" },
    });
    expect(nulViolations(CustomerSchema, customer).map((v) => v.field)).toEqual([
      'attribute_sources["email\\u0000"]',
      'attribute_sources["phone"]',
    ]);
    expect(
      nulViolations(SubmitOrderRequestSchema, create(SubmitOrderRequestSchema, { requestId: "ok" })),
    ).toEqual([]);
  });
});

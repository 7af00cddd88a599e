import { create } from "@bufbuild/protobuf";
import { CustomerSchema } from "@retail/contracts/retail/customer/v1/customer_pb";
import {
  OrderAcceptedSchema,
  ShipmentDispatchedSchema,
} from "@retail/contracts/retail/order/v1/order_events_pb";
import { describe, expect, it } from "vitest";
import { holdsPersonalData, redactPersonal } from "./index.js";

describe("personal data by contract", () => {
  it("empties the marked fields at any depth and keeps ids, amounts and the tax jurisdiction", () => {
    const accepted = create(OrderAcceptedSchema, {
      order: {
        orderId: "o-1",
        customerId: "c-1",
        shipTo: {
          lines: ["1 Secret St"],
          locality: "Hidden",
          postalCode: "99999",
          administrativeArea: "NY",
          regionCode: "US",
          recipient: "Ada",
        },
        returns: [{ returnId: "r-1", lines: [{ lineId: "1", quantity: 1n, reason: "my own words" }] }],
        grandTotal: { currencyCode: "USD", minorUnits: 1_000n },
      },
    });
    const redacted = redactPersonal(OrderAcceptedSchema, accepted);
    expect(redacted.order?.shipTo).toMatchObject({
      lines: [],
      locality: "",
      postalCode: "",
      recipient: "",
      administrativeArea: "NY",
      regionCode: "US",
    });
    expect(redacted.order?.returns[0]?.lines[0]).toMatchObject({ reason: "", quantity: 1n });
    expect(redacted.order).toMatchObject({
      orderId: "o-1",
      customerId: "c-1",
      grandTotal: { minorUnits: 1_000n },
    });
    const customer = redactPersonal(
      CustomerSchema,
      create(CustomerSchema, {
        customerId: "c-1",
        email: "a@b.c",
        givenName: "Ada",
        addresses: [{ lines: ["x"], regionCode: "GB" }],
      }),
    );
    expect(customer).toMatchObject({
      customerId: "c-1",
      email: "",
      givenName: "",
      addresses: [{ lines: [], regionCode: "GB" }],
    });
  });

  it("says which messages hold personal data at all", () => {
    expect(holdsPersonalData(OrderAcceptedSchema)).toBe(true);
    expect(holdsPersonalData(ShipmentDispatchedSchema)).toBe(false);
  });
});

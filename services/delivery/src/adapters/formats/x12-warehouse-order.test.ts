import { readFileSync } from "node:fs";
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { X12PartiesSchema } from "@retail/contracts/retail/delivery/v1/delivery_pb";
import { OrderAcceptedSchema, OrderRejectedSchema } from "@retail/contracts/retail/order/v1/order_events_pb";
import { FulfillmentType } from "@retail/contracts/retail/order/v1/order_pb";
import { type X12Interchange, X12Parser } from "node-x12";
import { describe, expect, it } from "vitest";
import { warehouseShippingOrder } from "./x12-warehouse-order.js";

const parties = create(X12PartiesSchema, {
  senderQualifier: "ZZ",
  senderId: "RETAILMESH",
  receiverQualifier: "ZZ",
  receiverId: "WMS-DC1",
});
const now = new Date("2026-11-28T04:20:00Z");
const accepted = create(OrderAcceptedSchema, {
  order: {
    orderId: "ord-1",
    channelOrderId: "PO-77",
    createTime: timestampFromDate(new Date("2026-11-27T18:00:00Z")),
    shipTo: {
      lines: ["1 Main St", "Suite 2"],
      locality: "Albany",
      administrativeArea: "NY",
      postalCode: "12207",
      regionCode: "US",
      recipient: "Ann Smith",
    },
    lines: [
      {
        lineId: "1",
        sku: "AB-1",
        quantity: 3n,
        fulfillmentType: FulfillmentType.SHIP,
        fulfillmentLocationId: "DC-1",
      },
      {
        lineId: "2",
        sku: "CD*2",
        quantity: 2n,
        cancelledQuantity: 1n,
        fulfillmentType: FulfillmentType.SHIP,
        fulfillmentLocationId: "DC-1",
      },
      {
        lineId: "3",
        sku: "EF-3",
        quantity: 1n,
        fulfillmentType: FulfillmentType.PICKUP_IN_STORE,
        fulfillmentLocationId: "ST-1",
      },
    ],
  },
});
const event = {
  type: OrderAcceptedSchema.typeName,
  data: toBinary(OrderAcceptedSchema, accepted),
  time: now,
};

function parse(text: string) {
  const interchange = new X12Parser(true).parse(text) as X12Interchange;
  const values = (s: { tag: string; elements: Array<{ value: string }> }) => [
    s.tag,
    ...s.elements.map((e) => e.value),
  ];
  const group = interchange.functionalGroups[0];
  return {
    isa: values(interchange.header),
    gs: group ? values(group.header) : [],
    segments: group?.transactions[0]?.segments.map(values) ?? [],
  };
}

describe("an accepted order as an X12 940", () => {
  it("lists the lines to ship from the warehouse's locations, in the layout of the real 940 sample", () => {
    const rendered = warehouseShippingOrder(event, { parties, locations: ["DC-1"], control: 42, now });
    expect(rendered?.contentType).toBe("application/edi-x12");
    const doc = parse(rendered?.body ?? "");
    expect(doc.isa.slice(5, 9).map((v) => v.trim())).toEqual(["ZZ", "RETAILMESH", "ZZ", "WMS-DC1"]);
    expect([Number(doc.isa[13]), doc.isa[15]]).toEqual([42, "P"]);
    expect(rendered?.body).toContain("*000000042*0*P*>~");
    expect(doc.gs).toEqual(["GS", "OW", "RETAILMESH", "WMS-DC1", "20261128", "0420", "42", "X", "004010"]);
    expect(doc.segments.map((s) => s.join("*"))).toEqual([
      "W05*N*ord-1*PO-77",
      "N1*ST*Ann Smith",
      "N3*1 Main St*Suite 2",
      "N4*Albany*NY*12207*US",
      "N1*WH*DC-1*91*DC-1",
      "G62*10*20261127",
      "W66*PP*M",
      "LX*1",
      "W01*3*EA**VN*AB-1",
      "N9*LI*1",
      "LX*2",
      "W01*1*EA**VN*CD 2",
      "N9*LI*2",
      "W76*4",
    ]);
    // Every segment it writes is one the real sample (EdiEngine's 940.OK.edi) has, in the same order.
    const sample = readFileSync(
      new URL("../../../test/fixtures/x12/940.ediengine.edi", import.meta.url),
      "utf8",
    );
    const sampleTags = sample
      .split(/[~\n]/)
      .map((s) => s.trim().split("*")[0] ?? "")
      .filter((t) => t && !["ISA", "GS", "ST", "SE", "GE", "IEA"].includes(t));
    const order = (tags: string[]) => [...new Set(tags)];
    const ours = order(doc.segments.map((s) => s[0] ?? ""));
    expect(ours.every((tag) => sampleTags.includes(tag))).toBe(true);
    const positions = ours.map((tag) => sampleTags.indexOf(tag));
    expect(positions.filter((p, i) => i > 0 && p < (positions[i - 1] ?? 0) && ours[i] !== "N9")).toEqual([]);
  });

  it("writes nothing for an order without a line at the warehouse, nor for another event", () => {
    expect(warehouseShippingOrder(event, { parties, locations: ["DC-9"], control: 1, now })).toBeUndefined();
    const rejected = {
      type: OrderRejectedSchema.typeName,
      data: toBinary(OrderRejectedSchema, create(OrderRejectedSchema, {})),
      time: now,
    };
    expect(
      warehouseShippingOrder(rejected, { parties, locations: ["DC-1"], control: 1, now }),
    ).toBeUndefined();
  });

  it("marks a test interchange as such", () => {
    const test = warehouseShippingOrder(event, {
      parties: { ...parties, test: true },
      locations: ["DC-1"],
      control: 7,
      now,
    });
    expect(parse(test?.body ?? "").isa[15]).toBe("T");
  });
});

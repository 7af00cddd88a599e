// Tax is data: rates are set and superseded through the API (audited, effective at once on every
// instance), stores get their jurisdiction from their address in inventory, and an order whose tax
// cannot be determined is refused naming the field, the jurisdiction and the tax code.
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type Client, Code, createClient } from "@connectrpc/connect";
import { BadRequestSchema, ErrorInfoSchema } from "@retail/contracts/google/rpc/error_details_pb";
import { LocationType } from "@retail/contracts/retail/inventory/v1/inventory_pb";
import { FulfillmentType, OrderStatus } from "@retail/contracts/retail/order/v1/order_pb";
import { OrderService } from "@retail/contracts/retail/order/v1/order_service_pb";
import { createServiceTransport } from "@retail/platform/rpc";
import { rejection, uniqueName, until } from "@retail/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Mesh, startMesh } from "./harness.js";
import { shipTo, usd, webOrder } from "./web-order.js";

let mesh: Mesh;
let first: Client<typeof OrderService>;
let second: Client<typeof OrderService>;
let admin: Client<typeof OrderService>;

beforeAll(async () => {
  mesh = await startMesh("tax");
  const a = await mesh.startOrder();
  first = a.client;
  ({ client: second } = await mesh.startOrder());
  admin = createClient(
    OrderService,
    createServiceTransport({ baseUrl: `http://127.0.0.1:${a.running.port}`, caller: "tax-admin" }),
  );
}, 120_000);
afterAll(() => mesh?.stopAll(), 60_000);

const violation = (e: Awaited<ReturnType<typeof rejection>>) =>
  e.findDetails(BadRequestSchema)[0]?.fieldViolations[0];

describe("tax rates as data", () => {
  it("gives a fresh installation the built-in rates once, though every instance seeds them at start", async () => {
    const { taxRates: newYork } = await admin.listTaxRates({
      jurisdiction: "US-NY",
      includeSuperseded: true,
    });
    const byCode = (a: { taxCode: string }, b: { taxCode: string }) => a.taxCode.localeCompare(b.taxCode);
    expect(newYork.sort(byCode).map((r) => [r.taxCode, r.ratePpm, r.createdBy])).toEqual([
      ["exempt", 0n, "seed"],
      ["standard", 88_750n, "seed"],
    ]);
    const { taxRates: britain } = await admin.listTaxRates({ jurisdiction: "GB", includeSuperseded: true });
    expect(britain.map((r) => r.taxCode).sort()).toEqual(["reduced", "standard", "zero"]);
  });

  it("refuses a ship-to without a rate naming it, then taxes it from the moment a rate is set, on every instance", async () => {
    const sku = uniqueName("TAX");
    await mesh.receive(sku, "DC-1", 10);
    const nevada = { ...shipTo, administrativeArea: "NV", locality: "Reno" };
    const line = {
      lineId: "1",
      sku,
      quantity: 1n,
      unitPrice: usd(10_000n),
      fulfillmentType: FulfillmentType.SHIP,
    };
    const refused = await rejection(first.submitOrder(webOrder(sku, { shipTo: nevada, lines: [line] })));
    expect(refused.code).toBe(Code.InvalidArgument);
    expect(violation(refused)).toMatchObject({
      field: "ship_to.administrative_area",
      description: expect.stringMatching(/jurisdiction US-NV and tax code standard/),
    });

    const { taxRate } = await admin.createTaxRate({
      requestId: "nv-1",
      jurisdiction: "US-NV",
      taxCode: "standard",
      ratePpm: 68_500n,
    });
    expect(taxRate).toMatchObject({
      taxRateId: "US-NV.standard.1",
      ratePpm: 68_500n,
      createdBy: "tax-admin",
    });
    expect(taxRate?.createTime).toBeDefined();
    // The other instance prices with it at once.
    const { order } = await second.submitOrder(webOrder(sku, { shipTo: nevada, lines: [line] }));
    expect(order?.status).toBe(OrderStatus.ACCEPTED);
    expect(order?.taxTotal?.minorUnits).toBe(685n);

    const again = await rejection(
      admin.createTaxRate({ requestId: "nv-2", jurisdiction: "US-NV", taxCode: "standard", ratePpm: 1n }),
    );
    expect(again.findDetails(ErrorInfoSchema)[0]?.reason).toBe("TAX_RATE_EXISTS");
    const repeated = await admin.createTaxRate({
      requestId: "nv-1",
      jurisdiction: "US-NV",
      taxCode: "standard",
      ratePpm: 68_500n,
    });
    expect(repeated.taxRate?.taxRateId).toBe("US-NV.standard.1");
  });

  it("supersedes a rate from a moment on: orders placed before keep the old rate, the history is kept", async () => {
    const sku = uniqueName("TAX");
    await mesh.receive(sku, "DC-1", 10);
    await admin.createTaxRate({
      requestId: "az-1",
      jurisdiction: "US-AZ",
      taxCode: "standard",
      ratePpm: 56_000n,
      effectiveTime: timestampFromDate(new Date("2026-01-01T00:00:00Z")),
    });
    const from = new Date("2026-11-01T00:00:00Z");
    const { taxRate } = await admin.supersedeTaxRate({
      requestId: "az-2",
      taxRateId: "US-AZ.standard.1",
      ratePpm: 60_000n,
      effectiveTime: timestampFromDate(from),
    });
    expect(taxRate).toMatchObject({ taxRateId: "US-AZ.standard.2", ratePpm: 60_000n });
    const arizona = { ...shipTo, administrativeArea: "AZ", locality: "Phoenix" };
    const placed = async (at: string) => {
      const line = {
        lineId: "1",
        sku,
        quantity: 1n,
        unitPrice: usd(10_000n),
        fulfillmentType: FulfillmentType.SHIP,
      };
      const { order } = await first.submitOrder(
        webOrder(sku, { shipTo: arizona, lines: [line], placeTime: timestampFromDate(new Date(at)) }),
      );
      return order?.taxTotal?.minorUnits;
    };
    expect(await placed("2026-10-31T23:00:00Z")).toBe(560n);
    expect(await placed("2026-11-02T10:00:00Z")).toBe(600n);

    const stale = await rejection(
      admin.supersedeTaxRate({ requestId: "az-3", taxRateId: "US-AZ.standard.1", ratePpm: 1n }),
    );
    expect(stale.findDetails(ErrorInfoSchema)[0]?.reason).toBe("TAX_RATE_SUPERSEDED");
    const { taxRates } = await admin.listTaxRates({ jurisdiction: "US-AZ", includeSuperseded: true });
    expect(taxRates.map((r) => [r.taxRateId, r.supersededBy, r.createdBy])).toEqual([
      ["US-AZ.standard.1", "US-AZ.standard.2", "tax-admin"],
      ["US-AZ.standard.2", "", "tax-admin"],
    ]);
    const current = await admin.listTaxRates({ jurisdiction: "US-AZ" });
    expect(current.taxRates.map((r) => r.taxRateId)).toEqual(["US-AZ.standard.2"]);
  });

  it("taxes a pickup where its store is, from the store's address in inventory, and refuses a store without one", async () => {
    const sku = uniqueName("TAX");
    const store = uniqueName("ST");
    await mesh.inventory.upsertLocation({ location: { locationId: store, type: LocationType.STORE } });
    await mesh.receive(sku, store, 5);
    const pickup = () =>
      first.submitOrder(
        webOrder(sku, {
          channelId: "",
          shipTo: undefined,
          lines: [
            {
              lineId: "1",
              sku,
              quantity: 1n,
              unitPrice: usd(10_000n),
              fulfillmentType: FulfillmentType.PICKUP_IN_STORE,
              fulfillmentLocationId: store,
            },
          ],
        }),
      );
    const refused = await rejection(pickup());
    expect(violation(refused)).toMatchObject({
      field: "lines[0].fulfillment_location_id",
      description: expect.stringContaining(`location ${store} has no tax jurisdiction`),
    });

    await mesh.inventory.upsertLocation({
      location: {
        locationId: store,
        type: LocationType.STORE,
        address: { regionCode: "US", administrativeArea: "CA" },
      },
    });
    // The store's new address reaches the order service as an event.
    const accepted = await until(pickup, { timeout: 10_000, interval: 100 });
    expect(accepted.order?.taxTotal?.minorUnits).toBe(725n); // California's default 7.25 %
  });

  it("keeps the tax a channel charged, with the mesh's own figure beside it, even where it has no rate", async () => {
    const sku = uniqueName("TAX");
    await mesh.receive(sku, "DC-1", 10);
    const charged = (minorUnits: bigint) => ({
      lineId: "1",
      sku,
      quantity: 1n,
      unitPrice: usd(10_000n),
      fulfillmentType: FulfillmentType.SHIP,
      chargedTax: usd(minorUnits),
    });
    const { order } = await first.submitOrder(webOrder(sku, { lines: [charged(800n)] }));
    expect(order?.lines[0]?.tax?.minorUnits).toBe(800n); // what the shopper paid
    expect(order?.lines[0]?.computedTax?.minorUnits).toBe(888n); // New York's 8.875 %, on record
    expect(order?.taxTotal?.minorUnits).toBe(800n);
    expect(order?.grandTotal?.minorUnits).toBe(10_800n);

    const montana = { ...shipTo, administrativeArea: "MT", locality: "Helena" };
    const { order: untaxed } = await first.submitOrder(
      webOrder(sku, { shipTo: montana, lines: [charged(0n)] }),
    );
    expect(untaxed?.status).toBe(OrderStatus.ACCEPTED);
    expect(untaxed?.lines[0]?.computedTax).toBeUndefined();
  });
});

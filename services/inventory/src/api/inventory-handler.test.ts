// The inventory handler as callers see it, served through createRouterTransport with the platform's
// server interceptor (error mapping included) and in-memory ports: validation, error details and
// paging in milliseconds, no database.
import { create } from "@bufbuild/protobuf";
import { DurationSchema } from "@bufbuild/protobuf/wkt";
import { type Client, Code, createClient, createRouterTransport } from "@connectrpc/connect";
import { BadRequestSchema, ErrorInfoSchema } from "@retail/contracts/google/rpc/error_details_pb";
import {
  LocationType,
  MovementType,
  StockMovementSchema,
} from "@retail/contracts/retail/inventory/v1/inventory_pb";
import { InventoryService } from "@retail/contracts/retail/inventory/v1/inventory_service_pb";
import { createLogger } from "@retail/platform/log";
import { createServerInterceptor } from "@retail/platform/rpc";
import { rejection, violatedFields } from "@retail/platform/testing";
import { beforeEach, describe, expect, it } from "vitest";
import { AvailabilityReadModel } from "../adapters/memory/availability-read-model.js";
import { createCatalog } from "../adapters/memory/catalog.js";
import type { ReservationStore, StockLedger } from "../app/ports.js";
import { mapInventoryError } from "./error-codes.js";
import { createInventoryHandler, type InventoryDeps } from "./inventory-handler.js";

const unused = () => {
  throw new Error("not reached by these tests");
};

function clientFor(deps: InventoryDeps): Client<typeof InventoryService> {
  const transport = createRouterTransport(
    ({ service }) =>
      service(
        InventoryService,
        createInventoryHandler(deps, { defaultMs: 60_000, minMs: 1_000, maxMs: 3_600_000 }),
      ),
    {
      router: {
        interceptors: [
          createServerInterceptor({
            logger: createLogger({ service: "test", level: "silent" }),
            mapDomainError: mapInventoryError,
          }),
        ],
      },
    },
  );
  return createClient(InventoryService, transport);
}

let deps: InventoryDeps;
let client: Client<typeof InventoryService>;

beforeEach(() => {
  const catalog = createCatalog();
  catalog.putLocation({
    $typeName: "retail.inventory.v1.Location",
    locationId: "DC-1",
    type: LocationType.DISTRIBUTION_CENTER,
    name: "",
    regionCode: "US",
  });
  const entries = [1, 2, 3].map((version) => ({
    version,
    movement: create(StockMovementSchema, {
      movementId: `m${version}`,
      type: MovementType.GOODS_RECEIPT,
      sku: "A",
      locationId: "DC-1",
      quantity: 1n,
    }),
  }));
  deps = {
    catalog,
    catalogStore: { saveLocation: unused, saveChannelRule: unused, loadAll: unused },
    channelStock: { read: unused, append: unused },
    ledger: {
      movements: async (_sku: string, _location: string, after: number, limit: number) =>
        entries.filter((e) => e.version > after).slice(0, limit),
    } as unknown as StockLedger,
    reservations: { load: async () => undefined } as unknown as ReservationStore,
    readModel: new AvailabilityReadModel(),
    transfers: { begin: unused, end: unused, olderThan: unused },
    clock: { now: () => new Date() },
    caller: () => "test",
    logger: createLogger({ service: "test", level: "silent" }),
    lock: (_key, work) => work(),
  };
  client = clientFor(deps);
});

const fields = violatedFields;

describe("inventory handler", () => {
  it("refuses a movement naming every bad field, with nothing reaching the ledger", async () => {
    const error = await rejection(
      client.recordMovement({
        movement: { type: MovementType.GOODS_RECEIPT, locationId: "NOWHERE", quantity: -1n },
      }),
    );
    expect(error.code).toBe(Code.InvalidArgument);
    expect(fields(error)).toEqual(
      expect.arrayContaining([
        "movement.movement_id",
        "movement.sku",
        "movement.location_id",
        "movement.quantity",
      ]),
    );
  });

  it("refuses a channel rule naming an unknown location, at its index", async () => {
    const error = await rejection(
      client.setChannelRule({ rule: { channelId: "web", channel: 1, locationIds: ["DC-1", "ST-404"] } }),
    );
    expect(fields(error)).toEqual(["rule.location_ids[1]"]);
  });

  it("refuses a ttl outside the configured bounds", async () => {
    const error = await rejection(
      client.reserveStock({
        requestId: "r1",
        orderId: "o1",
        lines: [{ lineId: "1", sku: "A", quantity: 1n, locationId: "DC-1" }],
        ttl: create(DurationSchema, { seconds: 7_200n }),
      }),
    );
    expect(error.findDetails(BadRequestSchema)[0]?.fieldViolations[0]).toMatchObject({
      field: "ttl",
      description: "must be between 1 s and 3600 s",
    });
  });

  it("pages through ledger entries and refuses a token it did not issue", async () => {
    const first = await client.listMovements({ sku: "A", locationId: "DC-1", pageSize: 2 });
    expect(first.movements.map((m) => m.movementId)).toEqual(["m1", "m2"]);
    const second = await client.listMovements({
      sku: "A",
      locationId: "DC-1",
      pageSize: 2,
      pageToken: first.nextPageToken,
    });
    expect([second.movements.map((m) => m.movementId), second.nextPageToken]).toEqual([["m3"], ""]);
    expect(
      fields(await rejection(client.listMovements({ sku: "A", locationId: "DC-1", pageToken: "abc" }))),
    ).toEqual(["page_token"]);
  });

  it("maps an unknown reservation to NOT_FOUND with its reason", async () => {
    const error = await rejection(client.getReservation({ reservationId: "missing" }));
    expect(error.code).toBe(Code.NotFound);
    expect(error.findDetails(ErrorInfoSchema)[0]).toMatchObject({
      reason: "RESERVATION_NOT_FOUND",
      metadata: { reservation_id: "missing" },
    });
  });
});

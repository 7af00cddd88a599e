import type { MessageInitShape } from "@bufbuild/protobuf";
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import { BadRequestSchema, ErrorInfoSchema } from "@retail/contracts/google/rpc/error_details_pb";
import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import {
  AvailabilityChangedSchema,
  ChannelStockReportedSchema,
  StockMovementRecordedSchema,
} from "@retail/contracts/retail/inventory/v1/inventory_events_pb";
import { MovementType, type StockMovementSchema } from "@retail/contracts/retail/inventory/v1/inventory_pb";
import type { InventoryService } from "@retail/contracts/retail/inventory/v1/inventory_service_pb";
import { eventually } from "@retail/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningInventory } from "../src/compose.js";
import { createHarness, type EventCapture, registerLocations } from "./harness.js";

const harness = createHarness("movements");
let client: Client<typeof InventoryService>;
let running: RunningInventory;
let capture: EventCapture;
let counter = 0;

beforeAll(async () => {
  ({ client, running } = await harness.start());
  capture = await harness.capture();
  await registerLocations(client, ["DC-1", "ST-1", "ST-2"]);
  await client.setChannelRule({
    rule: { channelId: "amazon-us", channel: Channel.MARKETPLACE, locationIds: ["DC-1"], bufferUnits: 2n },
  });
});
afterAll(() => harness.stopAll());

function movement(
  type: MovementType,
  sku: string,
  quantity: number,
  extra: Omit<MessageInitShape<typeof StockMovementSchema>, "$typeName"> = {},
) {
  return {
    movementId: `mv-${++counter}`,
    type,
    sku,
    locationId: "DC-1",
    quantity: BigInt(quantity),
    sourceSystem: "wms",
    ...extra,
  };
}

async function record(
  type: MovementType,
  sku: string,
  quantity: number,
  extra: Omit<MessageInitShape<typeof StockMovementSchema>, "$typeName"> = {},
) {
  return client.recordMovement({ movement: movement(type, sku, quantity, extra) });
}

async function position(sku: string, locationId = "DC-1") {
  const { position } = await client.getStockPosition({ sku, locationId });
  return {
    onHand: Number(position?.onHand),
    reserved: Number(position?.reserved),
    inTransit: Number(position?.inTransit),
    damaged: Number(position?.damaged),
    safetyStock: Number(position?.safetyStock),
    available: Number(position?.available),
  };
}

describe("stock movements", () => {
  it("applies every movement type to the ledger and derives every state", async () => {
    const sku = "MOVE-ALL";
    await record(MovementType.GOODS_RECEIPT, sku, 100);
    await record(MovementType.PICK_CONFIRMATION, sku, 5);
    await record(MovementType.SHIPMENT, sku, 5);
    await record(MovementType.RETURN_TO_SELLABLE, sku, 2);
    await record(MovementType.RETURN_TO_DAMAGED, sku, 3);
    await record(MovementType.DAMAGE, sku, 4);
    await record(MovementType.WRITE_OFF, sku, 2);
    await client.setSafetyStock({ requestId: "ss-1", sku, locationId: "DC-1", quantity: 10n });
    expect(await position(sku)).toEqual({
      onHand: 93,
      reserved: 0,
      inTransit: 0,
      damaged: 5,
      safetyStock: 10,
      available: 78,
    });

    await record(MovementType.TRANSFER_OUT, sku, 20, { counterpartLocationId: "ST-1" });
    expect((await position(sku)).onHand).toBe(73);
    expect(await position(sku, "ST-1")).toMatchObject({ onHand: 0, inTransit: 20, available: 0 });
    await record(MovementType.TRANSFER_IN, sku, 20, { locationId: "ST-1", counterpartLocationId: "DC-1" });
    expect(await position(sku, "ST-1")).toMatchObject({ onHand: 20, inTransit: 0, available: 20 });

    const counted = await record(MovementType.CYCLE_COUNT, sku, 70);
    expect(Number(counted.position?.onHand)).toBe(70);
    const recorded = await eventually(() =>
      capture
        .of(StockMovementRecordedSchema)
        .find((e) => e.movement?.type === MovementType.CYCLE_COUNT && e.movement.sku === sku),
    );
    expect(recorded.movement?.onHandDelta).toBe(-3n);
    expect(recorded.position?.onHand).toBe(70n);
    expect(recorded.metadata?.aggregateId).toBe(`stock:${sku}@DC-1`);
  });

  it("applies a movement id once and refuses it with another payload", async () => {
    const first = movement(MovementType.GOODS_RECEIPT, "MOVE-IDEM", 10);
    expect((await client.recordMovement({ movement: first })).applied).toBe(true);
    const again = await client.recordMovement({ movement: first });
    expect(again.applied).toBe(false);
    expect(Number(again.position?.onHand)).toBe(10);
    const error = await client
      .recordMovement({ movement: { ...first, quantity: 11n } })
      .catch((e: unknown) => ConnectError.from(e));
    expect(error).toMatchObject({ code: Code.InvalidArgument });
    expect((error as ConnectError).findDetails(ErrorInfoSchema)[0]?.reason).toBe("IDEMPOTENCY_KEY_REUSED");
    expect((await position("MOVE-IDEM")).onHand).toBe(10);
  });

  it("answers a repeat of the movement that took the last unit with its first position, not a refusal", async () => {
    await record(MovementType.GOODS_RECEIPT, "MOVE-LAST", 2);
    const last = movement(MovementType.SHIPMENT, "MOVE-LAST", 2);
    expect((await client.recordMovement({ movement: last })).applied).toBe(true);
    // Decided again on the stock it left, the repeat would be refused; it is the same request instead.
    const again = await client.recordMovement({ movement: last });
    expect(again.applied).toBe(false);
    expect(Number(again.position?.onHand)).toBe(0);
    expect((await position("MOVE-LAST")).onHand).toBe(0);
  });

  it("refuses bad input with a field violation per rule, and applies nothing", async () => {
    const error = await client
      .recordMovement({
        movement: {
          movementId: "",
          type: 99 as MovementType,
          sku: "bad sku!",
          locationId: "NOWHERE",
          quantity: 0n,
        },
      })
      .catch((e: unknown) => ConnectError.from(e));
    expect(error).toMatchObject({ code: Code.InvalidArgument });
    const fields = (error as ConnectError)
      .findDetails(BadRequestSchema)[0]
      ?.fieldViolations.map((v) => v.field);
    expect(fields).toEqual([
      "movement.movement_id",
      "movement.type",
      "movement.sku",
      "movement.location_id",
      "movement.quantity",
    ]);
    const reservationByHand = await record(MovementType.RESERVATION, "MOVE-BAD", 1).catch((e: unknown) =>
      ConnectError.from(e),
    );
    expect(reservationByHand).toMatchObject({ code: Code.InvalidArgument });
  });

  it("refuses to take stock below zero unless the movement states a reason", async () => {
    await record(MovementType.GOODS_RECEIPT, "MOVE-NEG", 2);
    const refused = await record(MovementType.SHIPMENT, "MOVE-NEG", 3).catch((e: unknown) =>
      ConnectError.from(e),
    );
    expect(refused).toMatchObject({ code: Code.FailedPrecondition });
    expect((refused as ConnectError).findDetails(ErrorInfoSchema)[0]?.reason).toBe("NEGATIVE_STOCK");
    const forced = await record(MovementType.SHIPMENT, "MOVE-NEG", 3, {
      reason: "WMS shipped ahead of the receipt",
    });
    expect(Number(forced.position?.onHand)).toBe(-1);
    expect(Number(forced.position?.available)).toBe(0);
  });

  it("publishes an availability change per location and per channel the location feeds", async () => {
    const sku = "MOVE-CHAN";
    await record(MovementType.GOODS_RECEIPT, sku, 5);
    const changes = await eventually(() => {
      const found = capture.of(AvailabilityChangedSchema).filter((e) => e.availability?.sku === sku);
      return found.length >= 2 ? found : undefined;
    });
    const figures = changes.map((c) => [
      c.availability?.channelId,
      Number(c.availability?.available),
      Number(c.previousAvailable),
    ]);
    expect(figures).toEqual(
      expect.arrayContaining([
        ["", 5, 0],
        ["amazon-us", 3, 0],
      ]),
    );
    const { availability, channelTotal } = await client.getAvailability({ sku, channelId: "amazon-us" });
    expect(availability.map((a) => [a.locationId, Number(a.available)])).toEqual([["DC-1", 3]]);
    expect([channelTotal?.locationId, channelTotal?.channelId, Number(channelTotal?.available)]).toEqual([
      "",
      "amazon-us",
      3,
    ]);
  });

  it("answers availability for many SKUs at once and refuses an unknown channel by field", async () => {
    await record(MovementType.GOODS_RECEIPT, "MOVE-MANY-1", 3);
    await record(MovementType.GOODS_RECEIPT, "MOVE-MANY-2", 4, { locationId: "ST-2" });
    const { availability, channelTotals } = await client.batchGetAvailability({
      requests: [
        { sku: "MOVE-MANY-1", locationId: "DC-1" },
        { sku: "MOVE-MANY-2" },
        { sku: "MOVE-MANY-1", channelId: "amazon-us" },
      ],
    });
    expect(availability.map((a) => [a.sku, a.locationId, a.channelId, Number(a.available)])).toEqual([
      ["MOVE-MANY-1", "DC-1", "", 3],
      ["MOVE-MANY-2", "ST-2", "", 4],
      ["MOVE-MANY-1", "DC-1", "amazon-us", 1],
    ]);
    expect(channelTotals.map((a) => [a.sku, a.locationId, a.channelId, Number(a.available)])).toEqual([
      ["MOVE-MANY-1", "", "amazon-us", 1],
    ]);
    const error = await client
      .batchGetAvailability({
        requests: [{ sku: "MOVE-MANY-1" }, { sku: "MOVE-MANY-1", channelId: "nowhere" }],
      })
      .catch((e: unknown) => ConnectError.from(e));
    expect((error as ConnectError).findDetails(BadRequestSchema)[0]?.fieldViolations).toEqual([
      expect.objectContaining({ field: "requests[1].channel_id", description: "unknown channel nowhere" }),
    ]);
    const { locations } = await client.listLocations({});
    expect(locations.map((l) => l.locationId)).toEqual(["DC-1", "ST-1", "ST-2"]);
    // Paged by location id: two, then the last one, then no token.
    const first = await client.listLocations({ pageSize: 2 });
    const rest = await client.listLocations({ pageSize: 2, pageToken: first.nextPageToken });
    expect([first.locations.map((l) => l.locationId), rest.locations.map((l) => l.locationId)]).toEqual([
      ["DC-1", "ST-1"],
      ["ST-2"],
    ]);
    expect(rest.nextPageToken).toBe("");
    const refused = await client
      .listChannelRules({ pageSize: 501, pageToken: "not-a-token" })
      .catch((e) => e);
    expect(
      (refused as ConnectError).findDetails(BadRequestSchema)[0]?.fieldViolations.map((f) => f.field),
    ).toEqual(["page_size", "page_token"]);
    const { rules } = await client.listChannelRules({});
    expect(rules.map((r) => [r.channelId, r.locationIds, Number(r.bufferUnits)])).toEqual([
      ["amazon-us", ["DC-1"], 2],
    ]);
  });

  it("records a batch movement by movement, reporting the ones the rules refuse", async () => {
    const { results } = await client.batchRecordMovements({
      movements: [
        movement(MovementType.GOODS_RECEIPT, "MOVE-BATCH", 4),
        movement(MovementType.SHIPMENT, "MOVE-BATCH", 9),
        movement(MovementType.SHIPMENT, "MOVE-BATCH", 1),
      ],
    });
    expect(results.map((r) => [r.applied, r.errorReason])).toEqual([
      [true, ""],
      [false, "NEGATIVE_STOCK"],
      [true, ""],
    ]);
    expect((await position("MOVE-BATCH")).onHand).toBe(3);
  });

  it("loads many new positions in bulk, once, and falls back one by one where a position exists", async () => {
    await record(MovementType.GOODS_RECEIPT, "LOAD-EXISTING", 1);
    const load = [
      ...Array.from({ length: 40 }, (_, i) => movement(MovementType.GOODS_RECEIPT, `LOAD-${i}`, i + 1)),
      movement(MovementType.GOODS_RECEIPT, "LOAD-EXISTING", 5),
      movement(MovementType.SHIPMENT, "LOAD-NEW-SHORT", 1),
    ];
    const first = await client.batchRecordMovements({ movements: load });
    expect(first.results.filter((r) => r.applied)).toHaveLength(41);
    expect(first.results.at(-1)).toMatchObject({ applied: false, errorReason: "NEGATIVE_STOCK" });
    expect(await position("LOAD-39")).toMatchObject({ onHand: 40, available: 40 });
    expect(await position("LOAD-EXISTING")).toMatchObject({ onHand: 6 });
    const again = await client.batchRecordMovements({ movements: load.slice(0, 41) });
    expect(again.results.every((r) => !r.applied && r.errorReason === "")).toBe(true);
    expect(await position("LOAD-39")).toMatchObject({ onHand: 40 });
    const { availability } = await client.getAvailability({ sku: "LOAD-7", locationId: "DC-1" });
    expect(Number(availability[0]?.available)).toBe(8);
  });

  it("answers availability from a read model that agrees with the ledger rebuilt from scratch", async () => {
    await eventually(async () => {
      const ledger = await running.deps.ledger.rebuildAll();
      return ledger.every((p) => {
        const view = running.deps.readModel.get(p.sku, p.locationId);
        return view?.version === p.version && view.onHand === p.onHand && view.reserved === p.reserved;
      });
    });
    // A new instance (what a restart is) builds its read model from each stream's latest reported
    // position, and it agrees with the ledger folded from scratch at every position.
    const { running: restarted } = await harness.start();
    const folded = await running.deps.ledger.rebuildAll();
    expect(folded.length).toBeGreaterThan(10);
    for (const p of folded) {
      const { sku, locationId, onHand, reserved, inTransit, damaged, safetyStock, version } = p;
      expect(restarted.deps.readModel.get(sku, locationId)).toMatchObject({
        onHand,
        reserved,
        inTransit,
        damaged,
        safetyStock,
        version,
      });
    }
    const { availability } = await client.getAvailability({ sku: "MOVE-ALL", locationId: "ST-1" });
    expect(availability.map((a) => Number(a.available))).toEqual([20]);
    expect(Number(availability[0]?.ledgerVersion)).toBeGreaterThan(0);
    // How stale the read model is: movements applied from events, with their lag, on /metrics.
    const metrics = await (await fetch(`http://127.0.0.1:${running.metricsPort}/metrics`)).text();
    const applied = Number(/^inventory_read_model_lag_seconds_count\{[^}]*\} (\d+)/m.exec(metrics)?.[1]);
    expect(applied).toBeGreaterThan(10);
  });

  it("records a channel's reported stock beside the mesh's figure for it: a drift when they differ, never a movement", async () => {
    const sku = "MOVE-DRIFT";
    await record(MovementType.GOODS_RECEIPT, sku, 10);
    // amazon-us keeps a buffer of 2 at DC-1: the mesh shows it 8.
    await eventually(async () => {
      const { availability } = await client.getAvailability({
        sku,
        channelId: "amazon-us",
        locationId: "DC-1",
      });
      return Number(availability[0]?.available) === 8 ? true : undefined;
    });
    const at = (iso: string) => ({ seconds: BigInt(Date.parse(iso) / 1000), nanos: 0 });
    const report = (requestId: string, channelAvailable: bigint, observed: string) =>
      client.reportChannelStock({
        requestId,
        channelId: "amazon-us",
        locationId: "DC-1",
        sku,
        channelAvailable,
        observeTime: at(observed),
        sourceSystem: "amazon",
      });
    const drifted = await report("r-1", 5n, "2026-11-27T10:00:00Z");
    expect([
      drifted.recorded,
      drifted.view?.drifted,
      drifted.view?.meshAvailable,
      drifted.view?.channelAvailable,
    ]).toEqual([true, true, 8n, 5n]);
    // The same request again answers what it recorded; an older report changes nothing.
    expect((await report("r-1", 5n, "2026-11-27T10:00:00Z")).view?.recordTime).toEqual(
      drifted.view?.recordTime,
    );
    const stale = await report("r-0", 8n, "2026-11-27T09:00:00Z");
    expect([stale.recorded, stale.view?.channelAvailable]).toEqual([false, 5n]);
    const agreed = await report("r-2", 8n, "2026-11-27T11:00:00Z");
    expect([agreed.recorded, agreed.view?.drifted]).toEqual([true, false]);
    // Published for whoever follows drift; stock itself untouched.
    const published = await eventually(() => {
      const found = capture.of(ChannelStockReportedSchema).filter((e) => e.view?.sku === sku);
      return found.length >= 2 ? found : undefined;
    });
    expect(published.map((e) => [Number(e.view?.channelAvailable), e.view?.drifted])).toEqual([
      [5, true],
      [8, false],
    ]);
    expect((await position(sku)).onHand).toBe(10);
    const refused = await client
      .reportChannelStock({
        requestId: "r-3",
        channelId: "amazon-us",
        locationId: "ST-1",
        sku,
        observeTime: at("2026-11-27T12:00:00Z"),
      })
      .catch((e: unknown) => ConnectError.from(e));
    expect(refused).toBeInstanceOf(ConnectError);
    expect(
      (refused as ConnectError).findDetails(BadRequestSchema)[0]?.fieldViolations.map((v) => v.field),
    ).toEqual(["location_id"]);
  });
});

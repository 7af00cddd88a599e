import { create } from "@bufbuild/protobuf";
import { type Duration, durationMs, timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, type ServiceImpl } from "@connectrpc/connect";
import { ErrorInfoSchema } from "@retail/contracts/google/rpc/error_details_pb";
import {
  AvailabilitySchema,
  FulfillmentPromise,
  LocationType,
  MovementType,
  type StockMovement,
} from "@retail/contracts/retail/inventory/v1/inventory_pb";
import {
  CommitReservationRequestSchema,
  type GetAvailabilityRequest,
  type InventoryService,
  MovementResultSchema,
  ReleaseReservationRequestSchema,
  ReportChannelStockRequestSchema,
  ReserveStockRequestSchema,
} from "@retail/contracts/retail/inventory/v1/inventory_service_pb";
import { toConnectError } from "@retail/platform/rpc";
import {
  checkPageRequest,
  fingerprint,
  pageByKey,
  type RequestRef,
  requestKey,
  requestOf,
} from "@retail/platform/store";
import { toStockPosition } from "../app/apply-movement.js";
import {
  changeReservation,
  confirmReservation,
  type ReservationChangeKind,
} from "../app/change-reservation.js";
import { getAvailability } from "../app/get-availability.js";
import { type CatalogDeps, setChannelRule, upsertLocation } from "../app/manage-catalog.js";
import type { AvailabilityFigure } from "../app/ports.js";
import { recordMovement, recordMovementBatch } from "../app/record-movement.js";
import { type ChannelStockDeps, reportChannelStock } from "../app/report-channel-stock.js";
import { type ReservationDeps, reserveStock, toReservation } from "../app/reserve-stock.js";
import { locationsForPromise } from "../domain/channels.js";
import { UnknownReservation } from "../domain/errors.js";
import { type Movement, plainMovement } from "../domain/stock-position.js";
import { mapInventoryError } from "./error-codes.js";
import { checkLocation, checkMovementType, checkQuantity, checkSku, Violations } from "./validation.js";

export type InventoryDeps = ReservationDeps & CatalogDeps & ChannelStockDeps;

/** How long an unconfirmed reservation (a cart, a pending order) may hold: the service's bounds. */
export interface ReservationTtlBounds {
  readonly defaultMs: number;
  readonly minMs: number;
  readonly maxMs: number;
}

const maxBatch = 1000;

function toMovement(
  deps: InventoryDeps,
  v: Violations,
  field: string,
  m: StockMovement | undefined,
): Movement {
  if (!m) {
    v.add(field, "is required");
    return {} as Movement;
  }
  v.require(`${field}.movement_id`, m.movementId);
  checkMovementType(v, `${field}.type`, m.type);
  checkSku(v, `${field}.sku`, m.sku);
  checkLocation(v, `${field}.location_id`, m.locationId, deps.catalog);
  const levels = m.type === MovementType.CYCLE_COUNT || m.type === MovementType.SAFETY_STOCK_SET;
  const quantity = checkQuantity(v, `${field}.quantity`, m.quantity, levels);
  const transfer = m.type === MovementType.TRANSFER_OUT || m.type === MovementType.TRANSFER_IN;
  if (transfer) {
    checkLocation(v, `${field}.counterpart_location_id`, m.counterpartLocationId, deps.catalog);
    if (m.counterpartLocationId === m.locationId)
      v.add(`${field}.counterpart_location_id`, "must differ from location_id");
  }
  return {
    movementId: m.movementId,
    type: m.type,
    sku: m.sku,
    locationId: m.locationId,
    quantity,
    counterpartLocationId: transfer ? m.counterpartLocationId : "",
    reservationId: "",
    lineId: "",
    reason: m.reason,
    sourceSystem: m.sourceSystem,
    ...(m.occurTime ? { occurTime: timestampDate(m.occurTime) } : {}),
  };
}

function toAvailability(figures: readonly AvailabilityFigure[], channel: number) {
  return figures.map((f) =>
    create(AvailabilitySchema, {
      sku: f.sku,
      locationId: f.locationId,
      channelId: f.channelId,
      channel: f.channelId ? channel : 0,
      available: BigInt(f.available),
      ledgerVersion: BigInt(f.ledgerVersion),
    }),
  );
}

/** A channel's figures as their location rows and, apart, the channel's total (its row without a location). */
function splitTotal<T extends { locationId: string; channelId: string }>(
  figures: T[],
): { rows: T[]; total?: T } {
  const total = figures.find((f) => f.locationId === "" && f.channelId !== "");
  return { rows: figures.filter((f) => f !== total), ...(total && { total }) };
}

function availabilityFor(deps: InventoryDeps, request: GetAvailabilityRequest, field: string, v: Violations) {
  checkSku(v, `${field}sku`, request.sku);
  if (request.locationId) checkLocation(v, `${field}location_id`, request.locationId, deps.catalog);
  const rule = request.channelId ? deps.catalog.rule(request.channelId) : undefined;
  if (request.channelId && !rule) v.add(`${field}channel_id`, `unknown channel ${request.channelId}`);
  return () => toAvailability(getAvailability(deps, request), rule?.channel ?? 0);
}

function ttlOf(v: Violations, ttl: Duration | undefined, bounds: ReservationTtlBounds): number {
  if (!ttl) return bounds.defaultMs;
  const ms = durationMs(ttl);
  if (ms < bounds.minMs || ms > bounds.maxMs)
    v.add("ttl", `must be between ${bounds.minMs / 1000} s and ${bounds.maxMs / 1000} s`);
  return ms;
}

/** InventoryService over Connect: request in, validated command, use case, response out. */
export function createInventoryHandler(
  deps: InventoryDeps,
  ttl: ReservationTtlBounds,
): Partial<ServiceImpl<typeof InventoryService>> {
  const change = async (
    kind: ReservationChangeKind,
    r: {
      requestId: string;
      reservationId: string;
      lines: Array<{ lineId: string; quantity: bigint }>;
      reason?: string;
    },
    request: RequestRef,
  ) => {
    const v = new Violations();
    v.require("request_id", r.requestId);
    v.require("reservation_id", r.reservationId);
    const lines = r.lines.map((l, i) => {
      v.require(`lines[${i}].line_id`, l.lineId);
      return { lineId: l.lineId, quantity: checkQuantity(v, `lines[${i}].quantity`, l.quantity) };
    });
    v.throwIfAny();
    const state = await changeReservation(deps, {
      kind,
      request,
      reservationId: r.reservationId,
      lines,
      reason: r.reason ?? "",
    });
    return { reservation: toReservation(state) };
  };

  return {
    async recordMovement(request) {
      const v = new Violations();
      const movement = toMovement(deps, v, "movement", request.movement);
      v.throwIfAny();
      const result = await recordMovement(deps, movement);
      return { position: toStockPosition(result.position), applied: result.applied };
    },

    async batchRecordMovements(request) {
      const v = new Violations();
      if (request.movements.length === 0) v.add("movements", "is required");
      if (request.movements.length > maxBatch) v.add("movements", `at most ${maxBatch} per batch`);
      const movements = request.movements.map((m, i) => toMovement(deps, v, `movements[${i}]`, m));
      v.throwIfAny();
      const outcomes = await recordMovementBatch(deps, movements);
      // A movement the rules refuse fails alone; anything unexpected fails the batch.
      const results = outcomes.map((outcome, i) => {
        const movementId = movements[i]?.movementId ?? "";
        if (!(outcome instanceof Error))
          return create(MovementResultSchema, { movementId, applied: outcome.applied });
        const mapped = mapInventoryError(outcome) ?? toConnectError(outcome);
        if (mapped.code === Code.Internal || mapped.code === Code.Unavailable) throw outcome;
        return create(MovementResultSchema, {
          movementId,
          applied: false,
          errorReason: mapped.findDetails(ErrorInfoSchema)[0]?.reason ?? Code[mapped.code] ?? "",
          errorMessage: mapped.rawMessage,
        });
      });
      return { results };
    },

    async getStockPosition(request) {
      const v = new Violations();
      checkSku(v, "sku", request.sku);
      checkLocation(v, "location_id", request.locationId, deps.catalog);
      v.throwIfAny();
      return { position: toStockPosition(await deps.ledger.load(request.sku, request.locationId)) };
    },

    async listMovements(request) {
      const v = new Violations();
      checkSku(v, "sku", request.sku);
      checkLocation(v, "location_id", request.locationId, deps.catalog);
      if (request.pageSize < 0 || request.pageSize > 500) v.add("page_size", "must be 0-500");
      if (request.pageToken && !/^[1-9][0-9]{0,15}$/.test(request.pageToken))
        v.add("page_token", "is not a token this service issued");
      v.throwIfAny();
      const pageSize = request.pageSize || 100;
      const after = request.pageToken ? Number(request.pageToken) : 0;
      const entries = await deps.ledger.movements(request.sku, request.locationId, after, pageSize + 1);
      const page = entries.slice(0, pageSize);
      return {
        movements: page.map((e) => e.movement),
        nextPageToken: entries.length > pageSize ? String(page.at(-1)?.version ?? "") : "",
      };
    },

    getAvailability(request) {
      const v = new Violations();
      const answer = availabilityFor(deps, request, "", v);
      v.throwIfAny();
      const { rows, total } = splitTotal(answer());
      return { availability: rows, ...(total && { channelTotal: total }) };
    },

    batchGetAvailability(request) {
      const v = new Violations();
      if (request.requests.length === 0) v.add("requests", "is required");
      if (request.requests.length > 1000) v.add("requests", "at most 1000 per batch");
      const answers = request.requests.map((r, i) => availabilityFor(deps, r, `requests[${i}].`, v));
      v.throwIfAny();
      const split = answers.map((answer) => splitTotal(answer()));
      return {
        availability: split.flatMap((s) => s.rows),
        channelTotals: split.flatMap((s) => (s.total ? [s.total] : [])),
      };
    },

    async reserveStock(request) {
      const v = new Violations();
      v.require("request_id", request.requestId);
      v.require("order_id", request.orderId);
      v.require("lines", request.lines);
      const seen = new Set<string>();
      const lines = request.lines.map((l, i) => {
        if (v.require(`lines[${i}].line_id`, l.lineId) && seen.has(l.lineId))
          v.add(`lines[${i}].line_id`, "must be unique");
        seen.add(l.lineId);
        checkSku(v, `lines[${i}].sku`, l.sku);
        if (l.locationId) checkLocation(v, `lines[${i}].location_id`, l.locationId, deps.catalog);
        return {
          lineId: l.lineId,
          sku: l.sku,
          locationId: l.locationId,
          quantity: checkQuantity(v, `lines[${i}].quantity`, l.quantity),
        };
      });
      const rule = request.channelId ? deps.catalog.rule(request.channelId) : undefined;
      if (request.channelId && !rule) v.add("channel_id", `unknown channel ${request.channelId}`);
      if (request.promise && !request.channelId) v.add("promise", "needs channel_id");
      const kept = rule && locationsForPromise(rule, request.promise, (id) => deps.catalog.locationType(id));
      if (request.promise && rule && !kept) {
        v.add(
          "promise",
          `channel ${request.channelId} does not promise ${FulfillmentPromise[request.promise]}`,
        );
      }
      const ttlMs = ttlOf(v, request.ttl, ttl);
      v.throwIfAny();
      const state = await reserveStock(deps, {
        request: requestOf(ReserveStockRequestSchema, request),
        orderId: request.orderId,
        lines,
        channel: request.channel,
        channelId: request.channelId,
        promise: request.promise,
        ttlMs,
      });
      return { reservation: toReservation(state) };
    },

    async getReservation(request) {
      const v = new Violations();
      v.require("reservation_id", request.reservationId);
      v.throwIfAny();
      const state = await deps.reservations.load(request.reservationId);
      if (!state) throw new UnknownReservation(request.reservationId);
      return { reservation: toReservation(state) };
    },

    async confirmReservation(request) {
      const v = new Violations();
      v.require("request_id", request.requestId);
      v.require("reservation_id", request.reservationId);
      v.throwIfAny();
      const state = await confirmReservation(deps, request);
      return { reservation: toReservation(state) };
    },

    releaseReservation: (request) =>
      change("release", request, requestOf(ReleaseReservationRequestSchema, request)),
    commitReservation: (request) =>
      change("commit", request, requestOf(CommitReservationRequestSchema, request)),

    async upsertLocation(request) {
      const v = new Violations();
      const location = request.location;
      if (v.require("location", location) && location) {
        if (
          v.require("location.location_id", location.locationId) &&
          !/^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$/.test(location.locationId)
        ) {
          v.add("location.location_id", "must be 1-64 letters, digits, '.', '_', '-' or '/'");
        }
        if (location.type === LocationType.UNSPECIFIED) v.add("location.type", "is required");
        const address = location.address;
        if (address && !/^[A-Z]{2}$/.test(address.regionCode))
          v.add("location.address.region_code", "must be an ISO 3166-1 alpha-2 country code (US, GB)");
        if (address?.administrativeArea && !/^[A-Z0-9]{1,3}$/.test(address.administrativeArea))
          v.add("location.address.administrative_area", "must be the ISO 3166-2 subdivision code (NY, ENG)");
      }
      v.throwIfAny();
      return { location: await upsertLocation(deps, location as NonNullable<typeof location>) };
    },

    listLocations(request) {
      const page = catalogPage(request, deps.catalog.locations(), (l) => l.locationId);
      return { locations: page.items, nextPageToken: page.nextPageToken };
    },

    async setChannelRule(request) {
      const v = new Violations();
      const rule = request.rule;
      if (v.require("rule", rule) && rule) {
        v.require("rule.channel_id", rule.channelId);
        if (rule.channel === 0) v.add("rule.channel", "is required");
        v.require("rule.location_ids", rule.locationIds);
        rule.locationIds.forEach((id, i) => {
          if (!deps.catalog.hasLocation(id)) v.add(`rule.location_ids[${i}]`, `unknown location ${id}`);
        });
        checkQuantity(v, "rule.buffer_units", rule.bufferUnits, true);
      }
      v.throwIfAny();
      return { rule: await setChannelRule(deps, rule as NonNullable<typeof rule>) };
    },

    listChannelRules(request) {
      const page = catalogPage(request, deps.catalog.rules(), (r) => r.channelId);
      return { rules: page.items, nextPageToken: page.nextPageToken };
    },

    async reportChannelStock(request) {
      const v = new Violations();
      v.require("request_id", request.requestId);
      checkSku(v, "sku", request.sku);
      const rule = request.channelId ? deps.catalog.rule(request.channelId) : undefined;
      if (v.require("channel_id", request.channelId) && !rule)
        v.add("channel_id", `no channel rule "${request.channelId}": set it first`);
      if (
        v.require("location_id", request.locationId) &&
        rule &&
        !rule.locationIds.includes(request.locationId)
      )
        v.add(
          "location_id",
          `is not one of channel ${request.channelId}'s locations (${rule.locationIds.join(", ")})`,
        );
      v.require("observe_time", request.observeTime);
      v.throwIfAny();
      return reportChannelStock(
        deps,
        {
          channelId: request.channelId,
          locationId: request.locationId,
          sku: request.sku,
          channelAvailable: request.channelAvailable,
          observeTime: request.observeTime as NonNullable<typeof request.observeTime>,
          sourceSystem: request.sourceSystem,
        },
        {
          key: requestKey("inventory.channelStock", request.requestId),
          fingerprint: fingerprint(ReportChannelStockRequestSchema, request),
        },
      );
    },

    async setSafetyStock(request) {
      const v = new Violations();
      v.require("request_id", request.requestId);
      checkSku(v, "sku", request.sku);
      checkLocation(v, "location_id", request.locationId, deps.catalog);
      const quantity = checkQuantity(v, "quantity", request.quantity, true);
      v.throwIfAny();
      const { position } = await recordMovement(
        deps,
        plainMovement({
          movementId: `safety-stock:${request.requestId}`,
          type: MovementType.SAFETY_STOCK_SET,
          sku: request.sku,
          locationId: request.locationId,
          quantity,
        }),
      );
      return { position: toStockPosition(position) };
    },
  };
}

/** A page of what the catalogue holds in memory (locations, channel rules), by id. */
function catalogPage<T>(
  request: { pageSize: number; pageToken: string },
  items: readonly T[],
  idOf: (item: T) => string,
) {
  const v = new Violations();
  const pageSize = checkPageRequest(v, request);
  v.throwIfAny();
  return pageByKey(items, idOf, pageSize, request.pageToken);
}

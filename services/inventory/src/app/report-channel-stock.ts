import { create } from "@bufbuild/protobuf";
import { type Timestamp, timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  type ChannelStockView,
  ChannelStockViewSchema,
} from "@retail/contracts/retail/inventory/v1/inventory_pb";
import { type CommitRequest, ConcurrencyConflict, retryOnConflict } from "@retail/platform/store";
import type { AvailabilityView, Catalog, ChannelStockStore, Clock } from "./ports.js";

export interface ChannelStockDeps {
  readonly channelStock: ChannelStockStore;
  readonly readModel: AvailabilityView;
  readonly catalog: Catalog;
  readonly clock: Clock;
}

export interface ChannelStockReport {
  readonly channelId: string;
  readonly locationId: string;
  readonly sku: string;
  readonly channelAvailable: bigint;
  readonly observeTime: Timestamp;
  readonly sourceSystem: string;
}

const millis = (t: Timestamp | undefined) => (t ? timestampDate(t).getTime() : 0);

/**
 * Records what a channel says it shows as sellable at a location beside the mesh's figure for that
 * channel there (its rule's view, from this instance's read model): a drift when they differ. A
 * report observed before the one recorded last changes nothing (channels deliver out of order); a
 * repeated request answers with what it recorded. The channel's rule must cover the location (the
 * handler checks).
 */
export async function reportChannelStock(
  deps: ChannelStockDeps,
  report: ChannelStockReport,
  request: CommitRequest,
): Promise<{ view: ChannelStockView; recorded: boolean }> {
  const key = { channelId: report.channelId, locationId: report.locationId, sku: report.sku };
  return retryOnConflict(
    async () => {
      const { current, version, applied } = await deps.channelStock.read(key, request);
      if (applied) return { view: applied, recorded: true };
      if (current && millis(current.observeTime) > millis(report.observeTime))
        return { view: current, recorded: false };
      const rule = deps.catalog.rule(report.channelId);
      const figure = rule
        ? deps.readModel
            .byChannel(report.sku, rule, report.locationId)
            .find((f) => f.locationId === report.locationId)
        : undefined;
      const meshAvailable = BigInt(figure?.available ?? 0);
      const view = create(ChannelStockViewSchema, {
        ...key,
        channelAvailable: report.channelAvailable,
        meshAvailable,
        drifted: meshAvailable !== report.channelAvailable,
        observeTime: report.observeTime,
        recordTime: timestampFromDate(deps.clock.now()),
        sourceSystem: report.sourceSystem,
      });
      await deps.channelStock.append(key, version, view, request);
      return { view, recorded: true };
    },
    (error) => error instanceof ConcurrencyConflict,
  );
}

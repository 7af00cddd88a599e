// One proving day: the mesh (started here or given), the day generated from its seed, set up and
// driven through the gateway, then judged (scorecard) and costed. The benchmark and the test call it.
import { cpus, machine, totalmem } from "node:os";
import { costSvg, timelineSvg } from "./charts.js";
import { closePeriod, type PeriodClose } from "./close.js";
import { type Cost, costOf, histogramQuantile, read } from "./cost.js";
import { type DayOptions, generateDay } from "./day.js";
import { drive, setUp } from "./drive.js";
import { meshFor, runId } from "./mesh.js";
import { measureParts, type PartsCapacity } from "./parts.js";
import { compareReads, type ReadComparison } from "./reads.js";
import { restClient } from "./rest.js";
import { type Scorecard, scorecard, settled } from "./scorecard.js";
import { type SettlementCheck, settleMarketplace } from "./settlement.js";
import { type Versions, versions } from "./versions.js";

export interface ProvingOptions extends DayOptions {
  /** Orders sent per second (open loop). */
  readonly rate: number;
  /** A running mesh's gateway and an API key with every scope; without them a mesh is started. */
  readonly gatewayUrl?: string;
  readonly apiKey?: string;
  readonly progress?: (line: string) => void;
  /** Reads each way in the read comparison (300 unless told). */
  readonly readSamples?: number;
}

export interface ProvingResult {
  readonly run: string;
  readonly options: Omit<ProvingOptions, "progress" | "apiKey">;
  readonly scorecard: Scorecard;
  readonly performance: {
    readonly seconds: number;
    readonly acceptedPerSecond: number;
    readonly acceptanceMs: { p50: number; p99: number; p999: number; max: number };
    readonly retries: number;
    /** Deliveries by channel format: REST orders and payments, Shopify and Stripe webhooks, repeats. */
    readonly sent: Record<string, number>;
  };
  /** The marketplace's settlement file and its reconciliation (only on a mesh started here). */
  readonly settlement: SettlementCheck | undefined;
  /** The period closed at the end of the day (only on a mesh started here). */
  readonly close: PeriodClose | undefined;
  /** Measured only on a mesh started here (its processes and metrics are known). */
  readonly cost: Cost | undefined;
  readonly machine: { cpus: number; model: string; memoryGiB: number; arch: string; node: string };
  /** What it ran on (only on a mesh started here, whose storage and broker are known). */
  readonly versions: Versions | undefined;
  /**
   * Movement-to-availability lag p99 (inventory's histogram: "at most" its bucket bound) beside the
   * broker's own publish-to-consume p99 in the same run (only on a mesh started here).
   */
  readonly lags: {
    readonly movementToAvailabilityP99Ms: number | undefined;
    readonly brokerPublishToConsumeP99Ms: number | undefined;
  };
  /** The storage's and broker's own capacity in this run (only on a mesh started here). */
  readonly parts: PartsCapacity | undefined;
  /**
   * Accepted orders/s the storage (single-command rate / commands per order) and the broker (confirmed
   * publishes/s / events per order) would allow on their own: the mesh's figure read against them.
   */
  readonly bounds:
    | { readonly storageOrdersPerSecond: number; readonly brokerOrdersPerSecond: number }
    | undefined;
  /**
   * An availability figure and an order read through the gateway, from the service directly and from
   * its database, p50 and p99 (only on a mesh started here).
   */
  readonly reads: ReadComparison | undefined;
  /** SVG drawings by name (written next to the scorecard, not into it). */
  readonly charts: Readonly<Record<string, string>>;
}

export async function proveDay(options: ProvingOptions): Promise<ProvingResult> {
  const run = runId(options.seed);
  const say = options.progress ?? (() => {});
  const mesh = await meshFor(options, run, say);
  try {
    const rest = restClient(mesh.gatewayUrl, mesh.apiKey);
    const day = generateDay(options, run);
    say(`day ${run}: ${day.journeys.length} orders, ${day.skus.length} SKUs, ${day.people.length} people`);
    const infra = mesh.infrastructure;
    if (infra) say("measuring the parts alone (storage and broker)");
    const parts = infra ? await measureParts(infra.mongodbUrl, infra.amqpUrl, run) : undefined;
    const ranOn = infra ? await versions(infra.mongodbUrl, infra.amqpUrl) : undefined;
    await setUp(rest, day);
    const before = await read(mesh.pids, mesh.metricsPorts);
    const driven = await drive(rest, day, options.rate, mesh.secrets, say);
    await settled(rest); // the events of the last orders reach the ledger before cost is read
    const after = await read(mesh.pids, mesh.metricsPorts);
    const inventoryMetrics = mesh.metricsPorts.inventory;
    const lagP99 = inventoryMetrics
      ? await histogramQuantile(inventoryMetrics, "inventory_read_model_lag_seconds", 0.99)
      : undefined;
    const started = Object.keys(mesh.pids).length > 0;
    say(started ? "closing the period" : "not closing the period of a mesh not started here");
    // The marketplace's settlement arrives before the close (its planted mismatches carried forward).
    const settlement = started ? await settleMarketplace(rest, run, driven.outcomes) : undefined;
    const close = started ? await closePeriod(rest, run) : undefined;
    say("judging the day");
    const card = await scorecard(rest, day, driven.outcomes, driven.stockErrors, close !== undefined);
    const cost = started ? costOf(before, after, card.orders.accepted) : undefined;
    const inventory = mesh.services?.inventory;
    const order = mesh.services?.order;
    let reads: ReadComparison | undefined;
    if (infra && inventory && order) {
      say("reading through the gateway, from the services and from their databases");
      const targets = {
        rest,
        inventoryUrl: inventory.url,
        orderUrl: order.url,
        mongodbUrl: infra.mongodbUrl,
        serviceKeys: infra.serviceKeys,
        inventoryDatabase: inventory.database,
        orderDatabase: order.database,
      };
      reads = await compareReads(targets, driven.outcomes, options.readSamples);
    }
    const seconds = (driven.endedAt - driven.startedAt) / 1_000;
    const h = driven.acceptance;
    const { progress: _, apiKey: __, ...shown } = options;
    return {
      run,
      options: shown,
      scorecard: card,
      performance: {
        seconds,
        acceptedPerSecond: Math.round((card.orders.accepted / seconds) * 10) / 10,
        acceptanceMs: {
          p50: h.getValueAtPercentile(50),
          p99: h.getValueAtPercentile(99),
          p999: h.getValueAtPercentile(99.9),
          max: h.maxValue,
        },
        retries: rest.retries(),
        sent: driven.sent,
      },
      close,
      settlement,
      cost,
      parts,
      reads,
      lags: {
        // A movement recorded to the read model having it, against the broker's own delivery time.
        movementToAvailabilityP99Ms: lagP99 === undefined ? undefined : lagP99 * 1_000,
        brokerPublishToConsumeP99Ms: parts?.publishToConsumeP99Ms,
      },
      bounds:
        parts && cost
          ? {
              // Orders/s the parts alone would allow at this cost per order, were they the only limit.
              storageOrdersPerSecond: round(parts.singleInsertsPerSecond / cost.mongoCommandsPerOrderTotal),
              brokerOrdersPerSecond: round(parts.confirmedPublishesPerSecond / cost.eventsPerOrder),
            }
          : undefined,
      charts: {
        timeline: timelineSvg(driven.outcomes, driven.startedAt),
        ...(cost ? { cost: costSvg(cost.cpuMsPerOrder) } : {}),
      },
      versions: ranOn,
      machine: {
        cpus: cpus().length,
        model: cpus()[0]?.model ?? "",
        memoryGiB: Math.round(totalmem() / 2 ** 30),
        arch: machine(),
        node: process.version,
      },
    };
  } finally {
    await mesh.stop();
  }
}

const round = (value: number) => Math.round(value * 10) / 10;

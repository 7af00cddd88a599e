// The closed loop: the highest order rate the mesh sustains with acceptance p99 under a bound. Days of
// the same shape are driven one after another on one mesh at rising rates (each a new day of its own
// SKUs and shoppers, so no day inherits another's stock); the search stops at the first rate whose
// p99 goes over the bound or whose accepted orders fall behind what was sent.
import { generateDay } from "./day.js";
import { drive, setUp } from "./drive.js";
import { meshFor, runId } from "./mesh.js";
import type { ProvingOptions } from "./prove.js";
import { restClient } from "./rest.js";
import { settled } from "./scorecard.js";

export interface RateStep {
  readonly rate: number;
  readonly ordersPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly failed: number;
  readonly sustained: boolean;
}

export interface MaxRate {
  readonly boundMs: number;
  readonly steps: RateStep[];
  /** The highest rate sustained (0: not even the first). */
  readonly maxRate: number;
}

export async function findMaxRate(
  options: ProvingOptions & {
    readonly p99BoundMs: number;
    readonly startRate: number;
    readonly factor: number;
  },
): Promise<MaxRate> {
  const run = runId(options.seed);
  const say = options.progress ?? (() => {});
  const mesh = await meshFor(options, run, say);
  const steps: RateStep[] = [];
  try {
    const rest = restClient(mesh.gatewayUrl, mesh.apiKey);
    for (
      let rate = options.startRate, step = 0;
      step < 12;
      rate = Math.round(rate * options.factor * 10) / 10, step++
    ) {
      const day = generateDay({ ...options, seed: options.seed + step }, `${run}s${step}`);
      await setUp(rest, day);
      const driven = await drive(rest, day, rate, mesh.secrets, () => {});
      await settled(rest, 30_000); // the next step starts on a mesh that caught up
      const seconds = (driven.endedAt - driven.startedAt) / 1_000;
      const accepted = driven.outcomes.filter(
        (o) => o.lines.size > 0 || o.status === "ORDER_STATUS_REJECTED",
      );
      const result: RateStep = {
        rate,
        ordersPerSecond: Math.round((accepted.length / seconds) * 10) / 10,
        p50: driven.acceptance.getValueAtPercentile(50),
        p99: driven.acceptance.getValueAtPercentile(99),
        failed: driven.outcomes.filter((o) => o.error).length,
        sustained: false,
      };
      const sustained = result.p99 <= options.p99BoundMs && result.failed === 0;
      steps.push({ ...result, sustained });
      say(
        `${rate} orders/s sent: ${result.ordersPerSecond}/s answered, p50 ${result.p50} ms, p99 ${result.p99} ms${sustained ? "" : " (over the bound)"}`,
      );
      if (!sustained) break;
    }
  } finally {
    await mesh.stop();
  }
  const held = steps.filter((s) => s.sustained);
  return { boundMs: options.p99BoundMs, steps, maxRate: held.at(-1)?.rate ?? 0 };
}

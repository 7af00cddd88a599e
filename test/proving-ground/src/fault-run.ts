// A fault run (`npm run bench -- --faults`): for each fault, a proving day on a mesh of its own, the
// fault injected a third of the way in, the mesh left to come to rest, then judged: nothing lost,
// nothing applied twice, nothing oversold, stock reliable, the ledger balanced, and nothing parked
// but the poison that was sent. The time to recover is how long after the fault ended orders still
// took longer than the latency bound.
import { consumerQueues } from "@retail/platform/amqp";
import amqplib from "amqplib";
import { generateDay } from "./day.js";
import { drive, type Outcome, setUp } from "./drive.js";
import { type Fault, type FaultContext, faultCatalogue } from "./faults.js";
import { type MeshUnderTest, runId, startMesh } from "./mesh.js";
import type { ProvingOptions } from "./prove.js";
import { restClient } from "./rest.js";
import { type Scorecard, scorecard, settled } from "./scorecard.js";
import { startWebhookSubscriber, type WebhookVerdict } from "./webhooks.js";

export interface FaultRunOptions extends ProvingOptions {
  /** The faults to run, by name (all when empty). */
  readonly only?: readonly string[];
  /** An order slower than this is not yet recovered (ms). */
  readonly boundMs?: number;
}

export interface FaultRow {
  readonly fault: string;
  readonly what: string;
  /** Orders sent and not yet ended when the fault was injected. */
  readonly inFlight: number;
  /** Journeys the channels gave up on, and orders created that the mesh no longer holds. */
  readonly lost: number;
  /** Orders held beyond those created, captures or refunds posted more than once, keys answered twice. */
  readonly appliedTwice: number;
  readonly oversold: number;
  /** Order events the webhook subscriber never got, of how many (outbound delivery under the fault). */
  readonly webhooksLost: number;
  readonly webhooksExpected: number;
  /** Messages parked in the consumers' parking queues, and how many the fault parked on purpose. */
  readonly parked: number;
  readonly parkedExpected: number;
  /** From the fault's end until the last order slower than the bound was answered (0: none was). */
  readonly recoveryMs: number;
  /** How long the fault itself lasted (its injection to what it broke being back). */
  readonly faultMs: number;
  /** The scorecard's invariants: every order accurate, stock reliable, ledger balanced and complete. */
  readonly invariantsHold: boolean;
  readonly problems: readonly string[];
  readonly figures: Readonly<Record<string, number>>;
  readonly scorecard: Scorecard | undefined;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs each fault on a day of its own and returns a row per fault. */
export async function runFaults(options: FaultRunOptions): Promise<FaultRow[]> {
  const say = options.progress ?? (() => {});
  const chosen = faultCatalogue().filter((f) => !options.only?.length || options.only.includes(f.name));
  if (options.only?.length && chosen.length !== options.only.length) {
    const known = faultCatalogue().map((f) => f.name);
    throw new Error(`unknown fault in ${options.only.join(", ")}; known: ${known.join(", ")}`);
  }
  const rows: FaultRow[] = [];
  for (const fault of chosen) {
    say(`fault ${fault.name}: ${fault.what}`);
    rows.push(
      await runOne(fault, options, say).catch(
        (error: unknown): FaultRow => ({
          fault: fault.name,
          what: fault.what,
          inFlight: 0,
          lost: 0,
          appliedTwice: 0,
          oversold: 0,
          webhooksLost: 0,
          webhooksExpected: 0,
          parked: 0,
          parkedExpected: 0,
          recoveryMs: 0,
          faultMs: 0,
          invariantsHold: false,
          problems: [
            `the day could not be run or judged: ${error instanceof Error ? error.message : String(error)}`,
          ],
          figures: {},
          scorecard: undefined,
        }),
      ),
    );
    const row = rows.at(-1);
    if (row) say(`fault ${fault.name}: ${summary(row)}`);
  }
  return rows;
}

async function runOne(
  fault: Fault,
  options: FaultRunOptions,
  say: (line: string) => void,
): Promise<FaultRow> {
  const run = runId(options.seed);
  const mesh = await startMesh(run, say, { proxied: true, ...fault.mesh });
  const day = generateDay(options, run);
  const context: FaultContext = { mesh, day, say };
  let webhooks: Awaited<ReturnType<typeof startWebhookSubscriber>> | undefined;
  try {
    await fault.prepare?.(context);
    // Channels keep retrying a write under its key for over a minute, as real integrations do.
    const base = restClient(mesh.gatewayUrl, mesh.apiKey, 40);
    const rest = fault.wrapRest ? fault.wrapRest(base) : base;
    await setUp(base, day);
    // An ERP subscribed to every order event, through the day and the fault.
    webhooks = await startWebhookSubscriber(base, run);
    const live = { sent: 0, ended: 0 };
    const driving = drive(rest, day, options.rate, mesh.secrets, say, live);
    await sleep((day.journeys.length / options.rate / 3) * 1_000);
    const inFlight = live.sent - live.ended;
    const faultStart = Date.now();
    const injected = await fault.inject(context).then(
      () => undefined,
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
    const faultEnd = Date.now();
    const driven = await driving;
    await fault.afterDay?.(context);
    say(`fault ${fault.name}: waiting for the mesh to come to rest`);
    await atRest(mesh);
    await settled(base);
    const card = await scorecard(base, day, driven.outcomes, driven.stockErrors, false);
    const outbound: WebhookVerdict = await webhooks.judge(
      driven.outcomes.map((o) => o.orderId).filter((id) => id !== ""),
    );
    say(
      `fault ${fault.name}: webhooks ${outbound.delivered} of ${outbound.expected} delivered, ${outbound.repeats} repeated, drained ${(outbound.drainMs / 1_000).toFixed(1)} s after the mesh came to rest`,
    );
    const findings = (await fault.findings?.(context)) ?? { problems: [], parkedOnPurpose: {}, figures: {} };
    const parked = await parkedBy(mesh);
    const parkedExpected = Object.values(findings.parkedOnPurpose).reduce((a, b) => a + b, 0);
    const parkingProblems = Object.entries(parked)
      .filter(([queue, n]) => n !== (findings.parkedOnPurpose[queue] ?? 0))
      .map(([queue, n]) => `${queue}.parking holds ${n} (expected ${findings.parkedOnPurpose[queue] ?? 0})`);
    const appliedTwice =
      Math.max(0, card.orders.held - card.orders.created) +
      card.ledger.postedTwice +
      (findings.figures["keys answered differently"] ?? 0);
    const lost = card.orders.failed + Math.max(0, card.orders.created - card.orders.held);
    const invariantsHold =
      outbound.lost === 0 &&
      outbound.outOfOrder === 0 &&
      outbound.unverified === 0 &&
      card.orders.accuracy === 1 &&
      card.stock.reliability === 1 &&
      card.stock.oversoldUnits === 0 &&
      card.ledger.problems.length === 0 &&
      card.ledger.unbalancedEntries === 0 &&
      card.ledger.balancedPerCurrency;
    return {
      fault: fault.name,
      what: fault.what,
      inFlight,
      lost,
      appliedTwice,
      oversold: card.stock.oversoldUnits,
      webhooksLost: outbound.lost,
      webhooksExpected: outbound.expected,
      parked: Object.values(parked).reduce((a, b) => a + b, 0),
      parkedExpected,
      recoveryMs: recovery(driven.outcomes, faultEnd, options.boundMs ?? 1_000),
      faultMs: faultEnd - faultStart,
      invariantsHold,
      problems: [
        ...(injected ? [`the fault could not be injected: ${injected}`] : []),
        ...findings.problems,
        ...parkingProblems,
        ...outbound.problems.slice(0, 5).map((p) => `webhooks: ${p}`),
        ...card.inaccurate.slice(0, 5).map((i) => `order ${i.channelOrderId}: ${i.why}`),
        ...card.stock.mismatches.slice(0, 5),
        ...card.ledger.problems.slice(0, 5),
      ],
      figures: {
        ...findings.figures,
        "webhooks delivered": outbound.delivered,
        "webhooks repeated": outbound.repeats,
        "webhooks out of order": outbound.outOfOrder,
        "webhooks drained after rest (ms)": outbound.drainMs,
      },
      scorecard: card,
    };
  } finally {
    await webhooks?.close();
    await fault.close?.();
    await mesh.stop();
  }
}

/** From the fault's end until the last order slower than the bound was answered (0 when none was). */
export function recovery(outcomes: readonly Outcome[], faultEnd: number, boundMs: number): number {
  const lastSlow = outcomes
    .filter((o) => o.answeredAt !== undefined && (o.latencyMs ?? 0) > boundMs)
    .reduce((latest, o) => Math.max(latest, o.answeredAt ?? 0), 0);
  return Math.max(0, lastSlow - faultEnd);
}

/**
 * Waits until every outbox is empty and no event waits in a consumer's queue or retry queues, twice in
 * a row a second apart (a failed delivery may wait out a retry delay of a minute).
 */
function atRest(mesh: MeshUnderTest, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const services = Object.keys(mesh.metricsPorts).filter((name) => name !== "gateway");
  // One broker connection for the whole wait, asked each second.
  return withChannel(mesh, async (channel) => {
    let quiet = 0;
    while (quiet < 2) {
      if (Date.now() > deadline) throw new Error("the mesh did not come to rest within five minutes");
      const backlogs = await Promise.all(
        services.map((s) => (mesh.metricsPorts[s] ? outboxBacklog(mesh.metricsPorts[s]) : 0)),
      );
      const backlog = backlogs.reduce((a, b) => a + b, 0);
      quiet = backlog === 0 && (await waiting(mesh, channel)) === 0 ? quiet + 1 : 0;
      await sleep(1_000);
    }
  });
}

/** Events a service has stored and not yet published (its outbox backlog metric; unknown counts as 1). */
async function outboxBacklog(metricsPort: number): Promise<number> {
  const text = await fetch(`http://127.0.0.1:${metricsPort}/metrics`)
    .then((r) => r.text())
    .catch(() => "");
  const value = /^outbox_backlog_events(?:\{[^}]*\})? (\d+)$/m.exec(text)?.[1];
  return value === undefined ? 1 : Number(value);
}

async function withChannel<T>(
  mesh: MeshUnderTest,
  work: (channel: amqplib.Channel) => Promise<T>,
): Promise<T> {
  if (!mesh.infrastructure) throw new Error("a fault run needs a mesh started here");
  const connection = await amqplib.connect(mesh.infrastructure.amqpUrl);
  try {
    return await work(await connection.createChannel());
  } finally {
    await connection.close();
  }
}

/** Events ready in the consumers' queues and retry queues. */
async function waiting(mesh: MeshUnderTest, channel: amqplib.Channel): Promise<number> {
  let total = 0;
  for (const name of mesh.broker?.consumerQueues ?? []) {
    const queues = consumerQueues(name);
    for (const queue of [queues.queue, ...queues.retry.map((r) => r.name)])
      total += (await channel.checkQueue(queue)).messageCount;
  }
  return total;
}

/** Messages in each consumer's parking queue, by consumer queue. */
function parkedBy(mesh: MeshUnderTest): Promise<Record<string, number>> {
  return withChannel(mesh, async (channel) => {
    const parked: Record<string, number> = {};
    for (const name of mesh.broker?.consumerQueues ?? [])
      parked[name] = (await channel.checkQueue(consumerQueues(name).parking)).messageCount;
    return parked;
  });
}

export function summary(row: FaultRow): string {
  return (
    `${row.inFlight} in flight, ${row.lost} lost, ${row.appliedTwice} applied twice, ${row.oversold} oversold, ` +
    `${row.webhooksLost} of ${row.webhooksExpected} webhooks lost, ` +
    `${row.parked} parked (${row.parkedExpected} expected), recovered ${(row.recoveryMs / 1_000).toFixed(1)} s after ` +
    `a fault of ${(row.faultMs / 1_000).toFixed(1)} s, invariants ${row.invariantsHold ? "hold" : "BROKEN"}` +
    (row.problems.length ? `\n  ${row.problems.join("\n  ")}` : "")
  );
}

/** The table for the README: one line per fault. */
export function faultTable(rows: readonly FaultRow[]): string {
  const lines = [
    "| fault | orders in flight | lost | applied twice | oversold | webhooks lost (of) | parked (expected) | recovery | invariants |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ...rows.map(
      (r) =>
        `| ${r.fault}: ${r.what} | ${r.inFlight} | ${r.lost} | ${r.appliedTwice} | ${r.oversold} | ${r.webhooksLost} (${r.webhooksExpected}) | ${r.parked} (${r.parkedExpected}) | ${(r.recoveryMs / 1_000).toFixed(1)} s | ${r.invariantsHold && r.problems.length === 0 ? "hold" : "broken"} |`,
    ),
  ];
  return lines.join("\n");
}

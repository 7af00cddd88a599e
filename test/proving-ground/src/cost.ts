// What a day costs the machine: CPU time of every process of the mesh (the services and gateway this
// run started, and the storage server, PostgreSQL under it and the broker, found by name), MongoDB
// commands counted by each process's driver, events published. Read before and after; the difference
// divided by accepted orders is the cost of one.
import { readdirSync, readFileSync } from "node:fs";
import { counterByLabels } from "@retail/platform/processes";

/** Processes of the infrastructure, by what /proc/<pid>/comm calls them. */
const infrastructure: Record<string, RegExp> = {
  ferretdb: /^ferretdb$/,
  postgresql: /^postgres$/,
  rabbitmq: /^(beam\.smp|erl_child_setup|epmd)$/,
};
const ticksPerSecond = 100; // USER_HZ on Linux

export interface Reading {
  readonly at: number;
  /** CPU milliseconds (user + system) so far, by process group. */
  readonly cpuMs: Record<string, number>;
  /** MongoDB commands sent so far, by process. */
  readonly mongoCommands: Record<string, number>;
  /** The same by "process command collection" (where the commands go). */
  readonly mongoCommandsBy: Record<string, number>;
  readonly eventsPublished: number;
}

function cpuOf(pid: number): number {
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1_000) / ticksPerSecond;
  } catch {
    return 0; // the process ended
  }
}

function infrastructureCpu(): Record<string, number> {
  const totals: Record<string, number> = Object.fromEntries(Object.keys(infrastructure).map((k) => [k, 0]));
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let comm = "";
    try {
      comm = readFileSync(`/proc/${entry}/comm`, "utf8").trim();
    } catch {
      continue;
    }
    for (const [group, pattern] of Object.entries(infrastructure))
      if (pattern.test(comm)) totals[group] = (totals[group] ?? 0) + cpuOf(Number(entry));
  }
  return totals;
}

/** The sum of a counter's samples in a Prometheus text exposition. */
function counterSum(text: string, name: string): number {
  return text
    .split("\n")
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0);
}

export async function read(
  pids: Readonly<Record<string, number>>,
  metricsPorts: Readonly<Record<string, number>>,
): Promise<Reading> {
  const cpuMs: Record<string, number> = { ...infrastructureCpu() };
  for (const [name, pid] of Object.entries(pids)) cpuMs[name] = cpuOf(pid);
  const mongoCommands: Record<string, number> = {};
  const mongoCommandsBy: Record<string, number> = {};
  let eventsPublished = 0;
  for (const [name, port] of Object.entries(metricsPorts)) {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text().catch(() => "");
    // One parse of the counter: by command and collection, and the process's total from those.
    const byLabels = counterByLabels(text, "mongodb_commands_total", ["command", "collection"]);
    mongoCommands[name] = Object.values(byLabels).reduce((sum, n) => sum + n, 0);
    for (const [key, n] of Object.entries(byLabels)) mongoCommandsBy[`${name} ${key}`] = n;
    eventsPublished += counterSum(text, "outbox_published_events_total");
  }
  return { at: Date.now(), cpuMs, mongoCommands, mongoCommandsBy, eventsPublished };
}

export interface Cost {
  readonly seconds: number;
  /** CPU ms per accepted order, by process, and in all. */
  readonly cpuMsPerOrder: Record<string, number>;
  readonly cpuMsPerOrderTotal: number;
  /** The CPU the whole mesh used over the run, in cores (1.0 = one core busy all the time). */
  readonly coresBusy: number;
  readonly mongoCommandsPerOrder: Record<string, number>;
  readonly mongoCommandsPerOrderTotal: number;
  /** Commands per order by "process command collection", most first (where to cut). */
  readonly mongoCommandsPerOrderBy: ReadonlyArray<readonly [string, number]>;
  readonly eventsPerOrder: number;
}

export function costOf(before: Reading, after: Reading, acceptedOrders: number): Cost {
  const per = (value: number) => (acceptedOrders > 0 ? Math.round((value / acceptedOrders) * 10) / 10 : 0);
  const cpu = Object.fromEntries(
    Object.keys(after.cpuMs).map((k) => [k, (after.cpuMs[k] ?? 0) - (before.cpuMs[k] ?? 0)]),
  );
  const commands = Object.fromEntries(
    Object.keys(after.mongoCommands).map((k) => [
      k,
      (after.mongoCommands[k] ?? 0) - (before.mongoCommands[k] ?? 0),
    ]),
  );
  const by = Object.entries(after.mongoCommandsBy)
    .map(([k, n]) => [k, per(n - (before.mongoCommandsBy[k] ?? 0))] as const)
    .filter(([, n]) => n > 0)
    .sort(([, a], [, b]) => b - a);
  const cpuTotal = Object.values(cpu).reduce((a, b) => a + b, 0);
  const commandsTotal = Object.values(commands).reduce((a, b) => a + b, 0);
  const seconds = (after.at - before.at) / 1_000;
  return {
    seconds,
    cpuMsPerOrder: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, per(v)])),
    cpuMsPerOrderTotal: per(cpuTotal),
    coresBusy: seconds > 0 ? Math.round((cpuTotal / 1_000 / seconds) * 100) / 100 : 0,
    mongoCommandsPerOrder: Object.fromEntries(Object.entries(commands).map(([k, v]) => [k, per(v)])),
    mongoCommandsPerOrderTotal: per(commandsTotal),
    mongoCommandsPerOrderBy: by,
    eventsPerOrder: per(after.eventsPublished - before.eventsPublished),
  };
}

/**
 * A quantile of a Prometheus histogram in a process's exposition, as the upper bound of the bucket it
 * falls in (so "at most"): undefined when the histogram has no observations.
 */
export async function histogramQuantile(
  metricsPort: number,
  name: string,
  q: number,
): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text().catch(() => "");
  const buckets = text
    .split("\n")
    .filter((line) => line.startsWith(`${name}_bucket{`))
    .map((line) => ({
      le: line.match(/le="([^"]+)"/)?.[1] ?? "+Inf",
      count: Number(line.slice(line.lastIndexOf(" ") + 1)),
    }));
  const total = buckets.find((b) => b.le === "+Inf")?.count ?? 0;
  if (total === 0) return undefined;
  const reached = buckets.find((b) => b.count >= q * total);
  return reached && reached.le !== "+Inf" ? Number(reached.le) : Number.POSITIVE_INFINITY;
}

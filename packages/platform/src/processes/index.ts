// Services as processes of their own, for benchmarks and for tests that kill one mid-work: start one,
// wait for its outbox to drain, read its memory; and latency quantiles. Nothing here asserts timings.
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";

/**
 * Starts a service on ports picked just now (PORT and METRICS_PORT added to its environment), again on
 * fresh ports when it dies at start (a port taken in between by another process's connection, a
 * dependency that was not ready), up to `attempts` times; the last start's error is thrown.
 */
export async function startServiceOnFreePorts(
  options: Omit<Parameters<typeof startServiceProcess>[0], "metricsPort"> & { attempts?: number },
): Promise<{ child: ChildProcess; port: number; metricsPort: number }> {
  let last: unknown;
  for (let attempt = 0; attempt < (options.attempts ?? 3); attempt++) {
    const [port, metricsPort] = [await freePort(), await freePort()];
    try {
      const child = await startServiceProcess({
        ...options,
        metricsPort,
        env: { ...options.env, PORT: String(port), METRICS_PORT: String(metricsPort) },
      });
      return { child, port, metricsPort };
    } catch (error) {
      last = error;
    }
  }
  throw last;
}

/**
 * Starts a service directory's process and waits until its metrics answer: `src/main.ts` through tsx
 * by default, or the compiled `dist/main.js` as deployed (`from: "dist"`, after `tsc -b`).
 */
export async function startServiceProcess(options: {
  name: string;
  dir: string;
  env: Record<string, string>;
  metricsPort: number;
  from?: "source" | "dist";
  /** Where its output goes: this process's (default), nowhere, or to a function taking each chunk. */
  output?: "inherit" | "ignore" | ((chunk: string) => void);
}): Promise<ChildProcess> {
  if ((await fetch(`http://127.0.0.1:${options.metricsPort}/metrics`).catch(() => undefined))?.ok) {
    throw new Error(
      `port ${options.metricsPort} already answers: stop the ${options.name} left from an earlier run`,
    );
  }
  const output = options.output ?? "inherit";
  const args =
    options.from === "dist" ? ["dist/main.js"] : ["--conditions=source", "--import", "tsx", "src/main.ts"];
  const child = spawn(process.execPath, args, {
    cwd: options.dir,
    env: { ...process.env, ...options.env },
    // Output that would go nowhere is still read, so a service that dies at start says why.
    stdio: ["ignore", output === "inherit" ? "inherit" : "pipe", output === "inherit" ? "inherit" : "pipe"],
  });
  const tail: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on("data", (chunk: Buffer) => {
      const text = String(chunk);
      if (typeof output === "function") output(text);
      tail.push(text);
      if (tail.length > 40) tail.shift();
    });
  }
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      const said = tail.join("").trim().split("\n").slice(-15).join("\n");
      throw new Error(`${options.name} exited with code ${child.exitCode}${said ? `:\n${said}` : ""}`);
    }
    if ((await fetch(`http://127.0.0.1:${options.metricsPort}/metrics`).catch(() => undefined))?.ok)
      return child;
    await new Promise((r) => setTimeout(r, 250));
  }
  child.kill("SIGKILL");
  throw new Error(`${options.name} did not start`);
}

async function metricsText(metricsPort: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
}

/** Waits until the service's outbox has published everything (its backlog metric reads 0). */
export async function outboxDrained(metricsPort: number): Promise<void> {
  for (;;) {
    if (/^outbox_backlog_events\{[^}]*\} 0$/m.test(await metricsText(metricsPort))) return;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** A counter's samples in a Prometheus text exposition by their labels' values, joined by spaces. */
export function counterByLabels(
  text: string,
  name: string,
  labels: readonly string[],
): Record<string, number> {
  const found: Record<string, number> = {};
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    const key = labels.map((label) => line.match(new RegExp(`${label}="([^"]*)"`))?.[1] ?? "").join(" ");
    found[key] = (found[key] ?? 0) + Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return found;
}

/** The MongoDB commands the service has sent, by "command collection" (its command monitoring). */
export async function mongoCommandCounts(metricsPort: number): Promise<Record<string, number>> {
  return counterByLabels(await metricsText(metricsPort), "mongodb_commands_total", ["command", "collection"]);
}

/**
 * MongoDB commands per unit of work between two readings of mongoCommandCounts, as a line for a
 * benchmark's report: the total, then by command and collection, most first.
 */
export function commandsPerUnit(
  per: string,
  before: Readonly<Record<string, number>>,
  after: Readonly<Record<string, number>>,
  units: number,
): string {
  const by = Object.entries(after)
    .map(([key, n]) => [key, (n - (before[key] ?? 0)) / units] as const)
    .filter(([, n]) => n > 0)
    .sort(([, a], [, b]) => b - a);
  const total = by.reduce((sum, [, n]) => sum + n, 0);
  // Batched writes cost a fraction of a command per unit: shown to two significant digits.
  const figure = (n: number) => (n >= 0.01 ? n.toFixed(2) : n.toPrecision(2));
  return `MongoDB commands ${per}: ${figure(total)} (${by.map(([key, n]) => `${key} ${figure(n)}`).join(", ")})`;
}

/** The service's resident memory in MiB, from its process metrics. */
export async function residentMemoryMiB(metricsPort: number): Promise<number> {
  const bytes = /^process_resident_memory_bytes\{[^}]*\} (\d+)/m.exec(await metricsText(metricsPort))?.[1];
  return Number(bytes) / 2 ** 20;
}

/** The q-quantile of ascending-sorted values (NaN when there are none). */
export function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

/** A TCP port free on 127.0.0.1 right now (for a child service that must be told its port). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/** One measured benchmark phase: throughput and latency quantiles (ms) of successful calls. */
export interface Phase {
  readonly name: string;
  readonly calls: number;
  readonly errors: number;
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
}

/** A phase's figures from its calls' latencies (ms), its errors and when it started. */
function phaseOf(name: string, latencies: number[], errors: number, started: number): Phase {
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    name,
    calls: latencies.length,
    errors,
    perSecond: latencies.length / elapsed,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
  };
}

/** Runs `call` from `concurrency` loops for `seconds` and measures it; `call` gets a running index. */
export async function measurePhase(
  options: { name: string; seconds: number; concurrency: number },
  call: (i: number) => Promise<unknown>,
): Promise<Phase> {
  const latencies: number[] = [];
  let errors = 0;
  let n = 0;
  const deadline = performance.now() + options.seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (performance.now() < deadline) {
        const t = performance.now();
        try {
          await call(n++);
          latencies.push(performance.now() - t);
        } catch {
          errors++;
        }
      }
    }),
  );
  return phaseOf(options.name, latencies, errors, started);
}

/**
 * Sends `call` at a fixed rate for `seconds` whatever the answers' pace (an open loop: a slow answer does
 * not slow the load, as with real clients) and measures it; at most `maxInFlight` calls at once.
 */
export async function measureOpenLoop(
  options: { name: string; seconds: number; perSecond: number; maxInFlight?: number },
  call: (i: number) => Promise<unknown>,
): Promise<Phase> {
  const latencies: number[] = [];
  let errors = 0;
  const pending = new Set<Promise<void>>();
  const interval = 1000 / options.perSecond;
  const total = Math.floor(options.seconds * options.perSecond);
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const due = started + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    if (pending.size >= (options.maxInFlight ?? 1_000)) {
      errors++;
      continue;
    }
    // Latency counts from when the call was due, so a late start (the loop itself behind) counts too.
    const tracked: Promise<void> = call(i)
      .then(
        () => {
          latencies.push(performance.now() - due);
        },
        () => {
          errors++;
        },
      )
      .finally(() => pending.delete(tracked));
    pending.add(tracked);
  }
  await Promise.all(pending);
  return phaseOf(options.name, latencies, errors, started);
}

/** A phase as one report line. */
export function phaseRow(p: Phase): string {
  return `${p.name.padEnd(48)} ${p.perSecond.toFixed(0).padStart(8)} /s   p50 ${p.p50.toFixed(2).padStart(7)} ms   p99 ${p.p99.toFixed(2).padStart(7)} ms   (${p.calls} calls, ${p.errors} errors)`;
}

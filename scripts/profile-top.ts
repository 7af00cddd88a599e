// Where a process spent its CPU, from a V8 CPU profile (node --cpu-prof): self time by function and by
// package, the biggest first.
//
//   NODE_OPTIONS="--cpu-prof --cpu-prof-dir=/tmp/prof" npm run bench -- --orders 300
//   node scripts/profile-top.ts /tmp/prof/CPU.<...>.cpuprofile [--top 25]
//
// Every Node process of the run writes its profile when it exits (the services stop gracefully); the
// largest ones are the busiest processes.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: "string", default: "25" } },
});
const file = positionals[0];
if (!file) {
  console.error("usage: node scripts/profile-top.ts <file.cpuprofile> [--top 25]");
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfMicros = new Map<number, number>();
for (const [i, id] of profile.samples.entries())
  selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));

/** The package a script belongs to: node_modules/<name>, our own unit, or Node's internals. */
function packageOf(url: string): string {
  if (url === "") return "(native, GC or program)";
  if (url.startsWith("node:")) return "node internals";
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules?.[1]) return modules[1];
  const ours = /\/(packages|services|gateway|test)\/([^/]+)/.exec(url);
  return ours ? `${ours[1]}/${ours[2]}` : url;
}

const functions = new Map<string, number>();
const packages = new Map<string, number>();
let total = 0;
let idle = 0;
for (const [id, micros] of selfMicros) {
  const node = byId.get(id);
  if (!node) continue;
  if (node.callFrame.functionName === "(idle)") {
    idle += micros; // waiting, not working: left out of the shares
    continue;
  }
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url
    ? `${url.replace(/^file:\/\/.*?\/(node_modules|packages|services|gateway)\//, "$1/")}:${lineNumber + 1}`
    : "";
  const name = `${functionName || "(anonymous)"} ${where}`.trim();
  functions.set(name, (functions.get(name) ?? 0) + micros);
  packages.set(packageOf(url), (packages.get(packageOf(url)) ?? 0) + micros);
  total += micros;
}

const top = Number(values.top);
const rows = (map: Map<string, number>) =>
  [...map.entries()]
    .sort(([, a], [, b]) => b - a)
    .slice(0, top)
    .map(
      ([name, micros]) =>
        `${((100 * micros) / total).toFixed(1).padStart(5)} %  ${(micros / 1000).toFixed(0).padStart(6)} ms  ${name}`,
    )
    .join("\n");
console.log(
  `${file}: ${(total / 1000).toFixed(0)} ms on CPU (${(idle / 1000).toFixed(0)} ms idle left out)\n\nself time by package\n${rows(packages)}\n\nself time by function\n${rows(functions)}`,
);

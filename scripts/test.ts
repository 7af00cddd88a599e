// `npm test`: everything CI checks, in the order that fails fastest, against real servers.
//   format + lint (biome), types (tsc), contracts (buf format/lint/breaking, codegen drift),
//   dependency rules, alerting rules (promtool), then every test (vitest: unit, integration, component, e2e).
// Ends with one line "tests: N passed, N failed, N skipped"; exits non-zero on any failure.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const report = join(root, ".mesh", "vitest-report.json");

function step(name: string, command: string, args: string[]): boolean {
  console.log(`\n== ${name}: ${command} ${args.join(" ")}`);
  const started = Date.now();
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit" });
  const ok = result.status === 0;
  console.log(`== ${name}: ${ok ? "ok" : "FAILED"} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return ok;
}

// Tests and benchmarks outside src/ are type-checked by each unit's tsconfig.test.json.
const testConfigs = ["packages", "services", "gateway"].flatMap((dir) => {
  const base = join(root, dir);
  const units = dir === "gateway" ? [""] : existsSync(base) ? readdirSync(base) : [];
  return units
    .map((unit) => join(dir, unit, "tsconfig.test.json"))
    .filter((path) => existsSync(join(root, path)));
});
// Scenarios across services (test/e2e) have their own.
if (existsSync(join(root, "test", "tsconfig.test.json")))
  testConfigs.push(join("test", "tsconfig.test.json"));

const checks: Array<[string, string, string[]]> = [
  ["format and lint", "biome", ["ci", "."]],
  ["types", "tsc", ["-b"]],
  ["script types", "tsc", ["-p", "scripts"]],
  ...testConfigs.map((path): [string, string, string[]] => [
    `test types (${dirname(path)})`,
    "tsc",
    ["-p", path],
  ]),
  ["contracts", "node", ["scripts/check-contracts.ts"]],
  ["dependency rules", "node", ["scripts/check-deps.ts"]],
  ["alerting rules", "node", ["scripts/check-alerts.ts"]],
  ["browser for the console tests", "node", ["scripts/ensure-chromium.ts"]],
];
const failed = checks.filter(([name, command, args]) => !step(name, command, args)).map(([name]) => name);

mkdirSync(dirname(report), { recursive: true });
const testsOk = step("tests", "vitest", [
  "run",
  "--reporter=default",
  "--reporter=json",
  `--outputFile.json=${report}`,
  ...process.argv.slice(2),
]);
if (!testsOk) failed.push("tests");

let counts = { numPassedTests: 0, numFailedTests: 0, numPendingTests: 0, numTodoTests: 0 };
try {
  counts = JSON.parse(readFileSync(report, "utf8"));
} catch {
  failed.push("tests (no report)");
}
console.log(failed.length === 0 ? "\nall checks passed" : `\nfailed: ${failed.join(", ")}`);
console.log(
  `tests: ${counts.numPassedTests} passed, ${counts.numFailedTests} failed, ${counts.numPendingTests + counts.numTodoTests} skipped`,
);
process.exit(failed.length === 0 ? 0 : 1);

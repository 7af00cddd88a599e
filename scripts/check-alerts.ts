// The alerting rules of deploy/monitoring: well-formed (`promtool check rules`) and behaving as their
// unit tests say (`promtool test rules`). promtool comes with Debian's `prometheus` package, installed
// here when it is missing and the machine can (apt-get, as root).
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureDebianPackage } from "./debian-package.ts";

const dir = join(dirname(fileURLToPath(import.meta.url)), "..", "deploy", "monitoring");
const files = readdirSync(dir);
const rules = files.filter((f) => f.endsWith(".rules.yaml"));
const tests = files.filter((f) => f.endsWith(".test.yaml"));

const hasPromtool = () => !spawnSync("promtool", ["--version"]).error;
// On a fresh machine of ours (Debian, as root) the project installs what it lacks.
ensureDebianPackage("prometheus", hasPromtool, "promtool is missing");
if (!hasPromtool()) {
  console.error(
    "promtool is missing: install Debian's prometheus package (apt-get install --no-install-recommends prometheus); .ci/run does it on a fresh machine",
  );
  process.exit(1);
}
let ok = true;
for (const [args, what] of [
  [["check", "rules", ...rules], "rules"],
  [["test", "rules", ...tests], "rule tests"],
] as const) {
  const result = spawnSync("promtool", args, { cwd: dir, stdio: "inherit" });
  if (result.status !== 0) {
    console.error(`FAIL alerting ${what}`);
    ok = false;
  }
}
if (rules.length === 0 || tests.length === 0) {
  console.error("FAIL no alerting rules or rule tests in deploy/monitoring");
  ok = false;
}
console.log(ok ? `ok   alerting rules (${rules.length} files) and their tests (${tests.length} files)` : "");
process.exit(ok ? 0 : 1);

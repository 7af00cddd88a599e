// The contract gate: buf format and lint, buf breaking against every earlier revision of the contracts
// in this clone's history, and generated TypeScript and OpenAPI that match the protos.
//
// Breaking is checked against each commit that changed proto/ (the newest 25; HEAD's own for a working
// tree with edits), not just the
// previous one: a field added in one commit and removed in a later one of the same change is caught,
// and so is a break spread over several commits. BUF_BREAKING_AGAINST=<git ref> checks one ref only.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateOpenApiTypes } from "./generate-openapi-types.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

function run(command: string, args: string[]): { ok: boolean; output: string } {
  const result = spawnSync(command, args, { cwd: root, encoding: "utf8" });
  return { ok: result.status === 0, output: `${result.stdout ?? ""}${result.stderr ?? ""}`.trim() };
}

const failures: string[] = [];
function step(name: string, command: string, args: string[]): void {
  const result = run(command, args);
  console.log(`${result.ok ? "ok  " : "FAIL"} ${name}`);
  if (!result.ok) failures.push(`${name}:\n${result.output}`);
}

step("buf format", "buf", ["format", "--diff", "--exit-code"]);
step("buf lint", "buf", ["lint"]);

const pinned = process.env.BUF_BREAKING_AGAINST;
const history = run("git", ["log", "--format=%H", "-n", "26", "--", "proto", "buf.yaml"]);
const revisions = pinned
  ? [pinned]
  : history.ok
    ? history.output.split("\n").filter(Boolean).slice(0, 25)
    : [];
if (revisions.length === 0)
  console.log("skip buf breaking: no earlier revision of proto/ in this clone's history");
for (const revision of revisions) {
  step(`buf breaking against ${revision.slice(0, 12)}`, "buf", [
    "breaking",
    "--against",
    `.git#ref=${revision}`,
  ]);
}

const scratch = mkdtempSync(join(tmpdir(), "contracts-"));
try {
  step("buf generate", "buf", ["generate", "--output", scratch]);
  step("generated code matches the protos (run `npm run generate` and commit)", "git", [
    "diff",
    "--no-index",
    "--stat",
    "--exit-code",
    join(scratch, "packages/contracts/src/gen"),
    "packages/contracts/src/gen",
  ]);
  step("the OpenAPI document matches the protos (run `npm run generate` and commit)", "git", [
    "diff",
    "--no-index",
    "--stat",
    "--exit-code",
    join(scratch, "gateway/openapi"),
    "gateway/openapi",
  ]);
  const types = join(scratch, "openapi.d.ts");
  try {
    generateOpenApiTypes(join(scratch, "gateway/openapi/openapi.json"), types);
  } catch (error) {
    failures.push((error as Error).message);
  }
  step("the OpenAPI types match the document (run `npm run generate` and commit)", "git", [
    "diff",
    "--no-index",
    "--stat",
    "--exit-code",
    types,
    "gateway/test/generated/openapi.d.ts",
  ]);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

if (failures.length > 0) {
  console.error(`\ncontract checks failed:\n\n${failures.join("\n\n")}`);
  process.exit(1);
}

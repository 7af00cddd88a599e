// TypeScript types of the gateway's OpenAPI document, by openapi-typescript (what a channel developer's
// tooling would generate): `npm run generate` writes gateway/test/generated/openapi.d.ts after
// gateway/openapi/openapi.json, and check-contracts compares a fresh generation with it.
//   node scripts/generate-openapi-types.ts [openapi.json] [out.d.ts]
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Generates `output` from `input`; throws with openapi-typescript's output when it fails. */
export function generateOpenApiTypes(input: string, output: string): void {
  // openapi-typescript is the gateway's (with the TypeScript 5 it prints types with), wherever npm put it.
  const cli = [join(root, "gateway", "node_modules"), join(root, "node_modules")]
    .map((modules) => join(modules, "openapi-typescript", "bin", "cli.js"))
    .find((path) => existsSync(path));
  if (!cli) throw new Error("openapi-typescript is not installed (npm ci)");
  const result = spawnSync(process.execPath, [cli, input, "-o", output], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`openapi-typescript failed:\n${result.stdout}${result.stderr}`);
}

if (import.meta.main) {
  const [input = "gateway/openapi/openapi.json", output = "gateway/test/generated/openapi.d.ts"] =
    process.argv.slice(2);
  generateOpenApiTypes(join(root, input), join(root, output));
  console.log(`wrote ${output}`);
}

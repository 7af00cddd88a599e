// Re-syncs the vendored third-party protos under third_party/proto from the npm packages that ship
// them (no schema registry is reachable from our machines). Run `npm run protos:sync` after bumping
// google-proto-files, grpc-health-check or @grpc/reflection, then `npm run generate`.
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const modules = join(root, "node_modules");
const target = join(root, "third_party", "proto");

/** [source inside node_modules, destination inside third_party/proto] */
const files: ReadonlyArray<readonly [string, string]> = [
  ...[
    "google/api/annotations.proto",
    "google/api/http.proto",
    "google/api/field_behavior.proto",
    "google/rpc/status.proto",
    "google/rpc/code.proto",
    "google/rpc/error_details.proto",
  ].map((path) => [join("google-proto-files", path), path] as const),
  ["grpc-health-check/proto/health/v1/health.proto", "grpc/health/v1/health.proto"],
  ["@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto", "grpc/reflection/v1/reflection.proto"],
];

rmSync(target, { recursive: true, force: true });
for (const [from, to] of files) {
  const destination = join(target, to);
  mkdirSync(dirname(destination), { recursive: true });
  cpSync(join(modules, from), destination);
  console.log(`vendored ${to}`);
}

// The dependency rules of ../shared/STYLE.md, checked on every import of every source file:
// - in a service (and the gateway), imports point inwards: `domain` uses only itself, the generated
//   messages, @bufbuild/protobuf and the pure libraries listed in domainLibraries, and of the
//   generated messages no service file's (requests and responses are the API's), except the value
//   messages in domainServiceFileMessages; `app` uses `domain` and its own ports, never `api` or
//   `adapters`, and of the platform only the modules in appPlatformModules;
// - drivers (mongodb, amqplib, amqp-connection-manager, @connectrpc/*, @grpc/*) appear only in
//   `adapters/`, `api/`, `compose.ts`, `main.ts` and tests;
// - packages/contracts imports only @bufbuild/protobuf; packages/platform imports no service.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const drivers = [/^mongodb$/, /^amqplib$/, /^amqp-connection-manager$/, /^@connectrpc\//, /^@grpc\//];
/**
 * The platform modules a use case (app/) may use: the stream store's idempotency and retry helpers,
 * the logger type, money at the edges and personal-data redaction. Transport (rpc, amqp, server),
 * runtime, config and metrics belong to api/, adapters/ and compose.ts.
 */
const appPlatformModules = new Set(["store", "log", "money", "personal"]);
/**
 * Messages of a service file (`*_service.proto`) the domain may use, each with its reason. A service
 * file holds the API's requests and responses, which the domain never sees; these are values that
 * events carry and that happen to be declared there. Moving one to the resource file is a break under
 * our `buf breaking` FILE category (a TypeScript or Python consumer imports a message from the module
 * of the file declaring it), so they stay, named here.
 */
const domainServiceFileMessages: Readonly<Record<string, string>> = {
  LineAmounts: "order events carry it (order_events.proto imports it from order_service.proto)",
  LineAmountsSchema: "its schema, to create one",
};
/** Libraries without I/O that domain code may use: rules of the world we would not write ourselves. */
const domainLibraries = [/^libphonenumber-js(\/|$)/];
const importPattern =
  /(?:^|[\s;])(?:import|export)\s([^'"`]*?)from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

/** The names an import clause brings in: `{ type A, B as C }` gives A and B; a namespace import gives "*". */
function importedNames(clause: string): string[] {
  const braced = /\{([^}]*)\}/.exec(clause)?.[1];
  const names = (braced ?? "")
    .split(",")
    .map(
      (part) =>
        part
          .trim()
          .replace(/^type\s+/, "")
          .split(/\s+as\s+/)[0] ?? "",
    )
    .filter((name) => name !== "");
  return /\*\s+as\s/.test(clause) ? [...names, "*"] : names;
}

export interface Violation {
  file: string;
  specifier: string;
  rule: string;
}

/** The layer of a file inside a service's src/: domain, app, api, adapters, or the composition root. */
function layerOf(pathInSrc: string): string {
  const first = pathInSrc.split(sep)[0] ?? "";
  return ["domain", "app", "api", "adapters"].includes(first) ? first : "root";
}

/** Checks one import of one file (path relative to the repository root) and the names it brings in. */
export function checkImport(
  file: string,
  specifier: string,
  names: readonly string[] = [],
): string | undefined {
  const isTest = /\.test\.ts$/.test(file) || file.split(sep).includes("test");
  const isDriver = drivers.some((d) => d.test(specifier));
  if (file.startsWith(join("packages", "contracts"))) {
    return specifier.startsWith(".") || specifier.startsWith("@bufbuild/protobuf")
      ? undefined
      : "contracts import only @bufbuild/protobuf";
  }
  if (file.startsWith(join("packages", "platform"))) {
    return specifier.includes("services/") || specifier.startsWith("@retail/service-")
      ? "the platform never imports a service"
      : undefined;
  }
  const match = /^(services[/\\][^/\\]+|gateway)[/\\]src[/\\](.*)$/.exec(file);
  if (!match || isTest) return undefined;
  const [, unit = "", inSrc = ""] = match;
  const layer = layerOf(inSrc);
  const target = specifier.startsWith(".")
    ? layerOf(relative(join(root, unit, "src"), resolve(root, dirname(file), specifier)))
    : undefined;
  if (layer === "domain") {
    if (target !== undefined) return target === "domain" ? undefined : `domain may not import ${target}`;
    if (/^@retail\/contracts\/.*_service_pb(\.js)?$/.test(specifier)) {
      const refused = names.filter((name) => !(name in domainServiceFileMessages));
      return refused.length === 0
        ? undefined
        : `domain imports no request or response messages (${refused.join(", ")}): the api/ layer maps them`;
    }
    return /^@retail\/contracts\//.test(specifier) ||
      /^@bufbuild\/protobuf/.test(specifier) ||
      /^node:/.test(specifier) ||
      domainLibraries.some((l) => l.test(specifier))
      ? undefined
      : "domain uses only itself, the generated messages, @bufbuild/protobuf and pure libraries";
  }
  if (layer === "app") {
    if (target === "api" || target === "adapters" || target === "root") return `app may not import ${target}`;
    if (isDriver) return "drivers stay in adapters/, api/ and compose.ts";
    const platform = /^@retail\/platform\/([^/]+)/.exec(specifier)?.[1];
    if (platform !== undefined && !appPlatformModules.has(platform))
      return `app uses only these platform modules: ${[...appPlatformModules].join(", ")} (not ${platform})`;
  }
  return undefined;
}

function sourceFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    if (name === "node_modules" || name === "dist" || name === "gen") return [];
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : name.endsWith(".ts") ? [path] : [];
  });
}

export function checkRepository(): Violation[] {
  const units = [
    join(root, "packages", "contracts", "src"),
    join(root, "packages", "platform", "src"),
    join(root, "gateway", "src"),
    ...readdirSafe(join(root, "services")).map((s) => join(root, "services", s, "src")),
  ];
  const violations: Violation[] = [];
  for (const path of units.flatMap(sourceFiles)) {
    const file = relative(root, path);
    for (const match of readFileSync(path, "utf8").matchAll(importPattern)) {
      const specifier = match[2] ?? match[3] ?? "";
      const rule = checkImport(file, specifier, importedNames(match[1] ?? ""));
      if (rule) violations.push({ file, specifier, rule });
    }
  }
  return violations;
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const violations = checkRepository();
  for (const v of violations) console.error(`${v.file}: import "${v.specifier}": ${v.rule}`);
  console.log(
    violations.length === 0 ? "ok   dependency rules" : `FAIL dependency rules (${violations.length})`,
  );
  process.exit(violations.length === 0 ? 0 : 1);
}

// The examples of the OpenAPI document: examples.yaml holds one request and one answer per operation
// (by operationId), written the way a client sends and reads them; this module turns them into what
// the document shows. A transcoded operation's answer is read as its method's output message and
// written back as the gateway writes answers (every implicit field present), so the document shows
// what a client really receives and an example naming a field the message lacks stops generation.
// examples.test.ts checks each request against the gateway's own decoding and every example against
// the document's schemas.
import { readFileSync } from "node:fs";
import { type DescService, fromJson, type JsonValue, toJson } from "@bufbuild/protobuf";
import { parse } from "yaml";
import { type HttpBinding, httpBindings } from "../transcoding/http-rule.js";
import { matchSegments, splitPath } from "../transcoding/path-template.js";
import { operationIdOf } from "./document.js";

/** One operation's entry in examples.yaml. */
export interface OperationExampleEntry {
  readonly request: {
    /** The path as sent, ids filled in: /v1/orders/ord-…:cancel. */
    readonly path: string;
    readonly query?: Readonly<Record<string, string | number | boolean | readonly string[]>>;
    readonly idempotencyKey?: string;
    readonly headers?: Readonly<Record<string, string>>;
    readonly contentType?: string;
    readonly body?: JsonValue;
    /** A channel endpoint's body: a file of the repository (a channel's own sample), instead of body. */
    readonly file?: string;
  };
  readonly summary?: string;
  readonly response: JsonValue;
  /** Further answers worth showing (an order REJECTED beside an accepted one), by name. */
  readonly variants?: readonly {
    readonly name: string;
    readonly summary: string;
    readonly status?: string;
    readonly response: JsonValue;
  }[];
}

export type ExampleFile = Readonly<Record<string, OperationExampleEntry>>;

/** What the document places: parameter values by name, the body, and answers by status. */
export interface DocumentExample {
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly contentType: string;
  readonly body: unknown;
  readonly responses: Readonly<Record<string, readonly { name: string; summary?: string; value: unknown }[]>>;
}

export const exampleFileUrl = new URL("./examples.yaml", import.meta.url);
const repositoryRoot = new URL("../../../", import.meta.url);

export function readExampleFile(url: URL = exampleFileUrl): ExampleFile {
  return parse(readFileSync(url, "utf8"), { maxAliasCount: -1, merge: true }) as ExampleFile;
}

/** The transcoded operations by operationId. */
export function bindingsByOperationId(services: readonly DescService[]): Map<string, HttpBinding> {
  const byId = new Map<string, HttpBinding>();
  for (const service of services)
    for (const method of service.methods)
      httpBindings(method).forEach((binding, index) => {
        byId.set(operationIdOf(service, method, index), binding);
      });
  return byId;
}

/** The path values of an example's path under its operation's template; throws when it does not fit. */
export function examplePathValues(binding: HttpBinding, path: string): Map<string, string> {
  const values = matchSegments(binding.template, splitPath(path) ?? []);
  if (!values) throw new Error(`${path} does not fit ${binding.template.source}`);
  return values;
}

/** The examples as the document shows them; throws naming the operation whose example does not fit. */
export function documentExamples(
  services: readonly DescService[],
  file: ExampleFile,
): Record<string, DocumentExample> {
  const bindings = bindingsByOperationId(services);
  const out: Record<string, DocumentExample> = {};
  for (const [operationId, entry] of Object.entries(file)) {
    try {
      out[operationId] = documentExample(bindings.get(operationId), entry);
    } catch (error) {
      throw new Error(`example ${operationId}: ${(error as Error).message}`);
    }
  }
  return out;
}

function documentExample(binding: HttpBinding | undefined, entry: OperationExampleEntry): DocumentExample {
  const { request } = entry;
  const contentType = request.contentType ?? "application/json";
  const parameters: Record<string, unknown> = { ...request.headers };
  if (request.idempotencyKey !== undefined) parameters["Idempotency-Key"] = request.idempotencyKey;
  for (const [name, value] of Object.entries(request.query ?? {})) parameters[name] = value;
  if (binding) for (const [name, value] of examplePathValues(binding, request.path)) parameters[name] = value;
  // The gateway's own answer form: the output message with every implicit field written out.
  const answer = (value: JsonValue) =>
    binding
      ? toJson(binding.method.output, fromJson(binding.method.output, value), { alwaysEmitImplicit: true })
      : value;
  const responses: Record<string, { name: string; summary?: string; value: unknown }[]> = {
    "200": [
      { name: "ok", ...(entry.summary ? { summary: entry.summary } : {}), value: answer(entry.response) },
    ],
  };
  for (const variant of entry.variants ?? []) {
    const status = variant.status ?? "200";
    responses[status] ??= [];
    const value = status === "200" ? answer(variant.response) : variant.response;
    responses[status].push({ name: variant.name, summary: variant.summary, value });
  }
  return { parameters, contentType, body: requestBody(request, contentType), responses };
}

function requestBody(request: OperationExampleEntry["request"], contentType: string): unknown {
  const read = (file: string) => readFileSync(new URL(file, repositoryRoot), "utf8");
  if (request.file === undefined) return request.body;
  return contentType === "application/json" ? JSON.parse(read(request.file)) : read(request.file);
}

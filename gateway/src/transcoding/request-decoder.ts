// Builds an RPC's request message from the parts of an HTTP request, as google.api.http specifies:
// path variables set their fields; the body is the whole request ("*") or one field; every other
// field may come from the query string (dotted paths through singular messages, repeated fields by
// repeating the parameter). Unlike grpc-gateway, an unknown query parameter or body field is refused
// rather than ignored, and the request id is never taken from the client's JSON: it comes from the
// Idempotency-Key header, so a retried REST call is the same call end to end.
import { type DescField, type DescMessage, fromJson, type Message, ScalarType } from "@bufbuild/protobuf";
import { type FieldViolation, RequestInvalid } from "@retail/platform/rpc";
import { type HttpBinding, requestIdField } from "./http-rule.js";
import { checkMessageJson, fieldByJsonKey, type Json, stringForms } from "./json-check.js";

export interface HttpRequestParts {
  readonly pathValues: ReadonlyMap<string, string>;
  readonly query: URLSearchParams;
  /** The parsed JSON body, or undefined when the request had none. */
  readonly body: Json | undefined;
  /** The Idempotency-Key, scoped to the caller; becomes request_id when the request has one. */
  readonly requestId: string | undefined;
}

/** The request message, or a RequestInvalid listing every field that broke a rule. */
export function decodeRequest(binding: HttpBinding, parts: HttpRequestParts): Message {
  const input = binding.method.input;
  const violations: FieldViolation[] = [];
  const root: { [key: string]: Json } = {};
  const { body } = binding;
  if (body === "*") {
    if (parts.body !== undefined) {
      checkMessageJson(input, parts.body, "", violations);
      if (isObject(parts.body)) Object.assign(root, parts.body);
    }
  } else if (body !== undefined) {
    if (parts.body !== undefined) {
      checkBodyField(body, parts.body, violations);
      root[body.jsonName] = parts.body;
    }
  } else if (parts.body !== undefined) {
    violations.push({ field: "(body)", description: "this operation takes no body" });
  }
  const idField = requestIdField(input);
  if (idField) {
    if (fieldByJsonKey(input, idField.jsonName) && (idField.jsonName in root || idField.name in root)) {
      violations.push({
        field: idField.name,
        description: "is set from the Idempotency-Key header, not the body",
      });
      delete root[idField.jsonName];
      delete root[idField.name];
    }
    if (parts.requestId !== undefined) root[idField.jsonName] = parts.requestId;
  }
  for (const [path, text] of parts.pathValues) {
    const fields = binding.pathFields.get(path) ?? [];
    setFromText(root, fields, [text], path, "path", violations);
  }
  readQuery(binding, idField, parts.query, root, violations);
  if (violations.length > 0) throw new RequestInvalid(violations);
  try {
    return fromJson(input, root, { ignoreUnknownFields: false });
  } catch (error) {
    throw new RequestInvalid([{ field: "(body)", description: (error as Error).message }]);
  }
}

function checkBodyField(field: DescField, value: Json, violations: FieldViolation[]): void {
  if (field.fieldKind === "message") checkMessageJson(field.message, value, field.name, violations);
  else {
    // A scalar or repeated body field: check it as the only key of its message.
    const holder: { [key: string]: Json } = { [field.jsonName]: value };
    checkMessageJson(field.parent, holder, "", violations);
  }
}

function readQuery(
  binding: HttpBinding,
  idField: DescField | undefined,
  query: URLSearchParams,
  root: { [key: string]: Json },
  violations: FieldViolation[],
): void {
  const input = binding.method.input;
  // One field may be named by its JSON name and its proto name: gather its values under its proto path.
  const byField = new Map<string, { fields: DescField[]; values: string[] }>();
  for (const [key, value] of query) {
    if (key === "") {
      if (!byField.has(key))
        violations.push({ field: "(query string)", description: "has a parameter without a name" });
      byField.set(key, { fields: [], values: [] });
      continue;
    }
    if (binding.body === "*") {
      if (!byField.has(key))
        violations.push({
          field: key,
          description: "unknown query parameter: this operation reads its fields from the body",
        });
      byField.set(key, { fields: [], values: [] });
      continue;
    }
    const fields = queryFieldPath(input, key);
    if (!fields) {
      if (!byField.has(key))
        violations.push({ field: key, description: `unknown query parameter for ${input.typeName}` });
      byField.set(key, { fields: [], values: [] });
      continue;
    }
    const protoPath = fields.map((f) => f.name).join(".");
    const entry = byField.get(protoPath) ?? { fields, values: [] };
    entry.values.push(value);
    byField.set(protoPath, entry);
  }
  for (const [protoPath, { fields, values }] of byField) {
    const leaf = fields.at(-1);
    if (!leaf) continue;
    if (leaf === idField) {
      violations.push({ field: protoPath, description: "is set from the Idempotency-Key header" });
    } else if (
      binding.pathFields.has(protoPath) ||
      (binding.body !== undefined && fields[0] === binding.body)
    ) {
      violations.push({ field: protoPath, description: "is already bound by the path or the body" });
    } else if (!queryable(leaf)) {
      violations.push({ field: protoPath, description: "cannot be set from the query string" });
    } else if (leaf.fieldKind !== "list" && values.length > 1) {
      violations.push({ field: protoPath, description: "must be given once" });
    } else {
      setFromText(root, fields, values, protoPath, "query", violations);
    }
  }
}

/** Resolves "a.b_c" or "a.bC" through singular message fields. */
function queryFieldPath(message: DescMessage, key: string): DescField[] | undefined {
  const fields: DescField[] = [];
  let current: DescMessage | undefined = message;
  for (const name of key.split(".")) {
    const field: DescField | undefined = current ? fieldByJsonKey(current, name) : undefined;
    if (!field) return undefined;
    fields.push(field);
    current = field.fieldKind === "message" ? field.message : undefined;
  }
  return fields;
}

function queryable(field: DescField): boolean {
  if (field.fieldKind === "scalar" || field.fieldKind === "enum") return true;
  if (field.fieldKind === "list") return field.listKind !== "message";
  if (field.fieldKind === "message") return stringForms.has(field.message.typeName);
  return false;
}

/** Sets a field from its text form (path variable or query values), converting to its JSON form. */
function setFromText(
  root: { [key: string]: Json },
  fields: readonly DescField[],
  texts: readonly string[],
  path: string,
  source: "path" | "query",
  violations: FieldViolation[],
): void {
  const leaf = fields.at(-1);
  if (!leaf) return;
  const scalar = leaf.fieldKind === "scalar" || leaf.fieldKind === "list" ? leaf.scalar : undefined;
  const isEnum = leaf.fieldKind === "enum" || (leaf.fieldKind === "list" && leaf.listKind === "enum");
  const values = texts.map((text): Json => {
    if (scalar === ScalarType.BOOL) return boolText(text);
    if (isEnum && /^-?[0-9]+$/.test(text)) return Number(text); // an enum by number, as grpc-gateway takes it
    return text;
  });
  const value: Json = leaf.fieldKind === "list" ? values : (values[0] ?? null);
  const before = violations.length;
  checkMessageJson(
    leaf.parent,
    { [leaf.jsonName]: value },
    path.split(".").slice(0, -1).join("."),
    violations,
  );
  if (violations.length > before) return;
  let holder = root;
  for (const field of fields.slice(0, -1)) {
    const next = holder[field.jsonName] ?? holder[field.name];
    if (next !== undefined && !isObject(next)) {
      violations.push({ field: path, description: `${field.name} must be an object` });
      return;
    }
    const child: { [key: string]: Json } = next ?? {};
    holder[field.jsonName] = child;
    holder = child;
  }
  const existing = holder[leaf.jsonName] ?? holder[leaf.name];
  if (existing !== undefined && existing !== null && JSON.stringify(existing) !== JSON.stringify(value)) {
    violations.push({
      field: path,
      description: `is ${JSON.stringify(value)} in the ${source} but ${JSON.stringify(existing)} in the body`,
    });
    return;
  }
  delete holder[leaf.name];
  holder[leaf.jsonName] = value;
}

function boolText(text: string): Json {
  return text === "true" ? true : text === "false" ? false : text;
}

function isObject(value: Json | undefined): value is { [key: string]: Json } {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

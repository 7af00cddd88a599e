// Strict reading of request JSON against a message descriptor, before protobuf-es decodes it: every
// key must be a field of the message (by its JSON or proto name), every value must have the JSON form
// of its field's type (protobuf's JSON mapping: int64 as a number or decimal string, enums by name,
// bytes base64, well-known types in their string forms), and no key anywhere starts with "$", so a
// MongoDB operator can never ride a request into a query. Violations name the field by its proto path
// ("lines[2].quantity") and the rule, as the services' own validation does.
import { type DescEnum, type DescField, type DescMessage, ScalarType } from "@bufbuild/protobuf";
import type { FieldViolation } from "@retail/platform/rpc";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Well-known types whose JSON form is a string (and so may also come from a path or query). */
export const stringForms: ReadonlySet<string> = new Set([
  "google.protobuf.Timestamp",
  "google.protobuf.Duration",
  "google.protobuf.FieldMask",
]);
const wrappers: Record<string, ScalarType> = {
  "google.protobuf.DoubleValue": ScalarType.DOUBLE,
  "google.protobuf.FloatValue": ScalarType.FLOAT,
  "google.protobuf.Int64Value": ScalarType.INT64,
  "google.protobuf.UInt64Value": ScalarType.UINT64,
  "google.protobuf.Int32Value": ScalarType.INT32,
  "google.protobuf.UInt32Value": ScalarType.UINT32,
  "google.protobuf.BoolValue": ScalarType.BOOL,
  "google.protobuf.StringValue": ScalarType.STRING,
  "google.protobuf.BytesValue": ScalarType.BYTES,
};

/** The field of a message named by a JSON key: its JSON name (lowerCamelCase) or its proto name. */
export function fieldByJsonKey(message: DescMessage, key: string): DescField | undefined {
  return message.fields.find((f) => f.jsonName === key || f.name === key);
}

/** Checks a JSON value as the given message; appends violations under `path`. */
export function checkMessageJson(
  message: DescMessage,
  value: Json,
  path: string,
  violations: FieldViolation[],
): void {
  const typeName = message.typeName;
  if (stringForms.has(typeName)) {
    if (typeof value !== "string")
      violations.push({ field: path, description: `must be a string (${typeName})` });
    return;
  }
  const wrapped = wrappers[typeName];
  if (wrapped !== undefined) {
    checkScalar(wrapped, value, path, violations);
    return;
  }
  if (typeName === "google.protobuf.Struct" || typeName === "google.protobuf.Value") {
    refuseOperatorKeys(value, path, violations);
    return;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    violations.push({ field: path || "(body)", description: "must be a JSON object" });
    return;
  }
  for (const [key, item] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    if (key.startsWith("$")) {
      violations.push({ field: at, description: 'keys starting with "$" are not accepted' });
      continue;
    }
    const field = fieldByJsonKey(message, key);
    if (!field) {
      violations.push({ field: at, description: `unknown field of ${typeName}` });
      continue;
    }
    if (item === null) continue; // JSON null is the field's default, as the JSON mapping says
    checkFieldJson(field, item, path ? `${path}.${field.name}` : field.name, violations);
  }
}

function checkFieldJson(field: DescField, value: Json, path: string, violations: FieldViolation[]): void {
  switch (field.fieldKind) {
    case "scalar":
      checkScalar(field.scalar, value, path, violations);
      return;
    case "enum":
      checkEnum(field.enum, value, path, violations);
      return;
    case "message":
      checkMessageJson(field.message, value, path, violations);
      return;
    case "list": {
      if (!Array.isArray(value)) {
        violations.push({ field: path, description: "must be a JSON array" });
        return;
      }
      value.forEach((item, i) => {
        const at = `${path}[${i}]`;
        if (field.listKind === "scalar") checkScalar(field.scalar, item, at, violations);
        else if (field.listKind === "enum") checkEnum(field.enum, item, at, violations);
        else checkMessageJson(field.message, item, at, violations);
      });
      return;
    }
    case "map": {
      if (value === null || typeof value !== "object" || Array.isArray(value)) {
        violations.push({ field: path, description: "must be a JSON object" });
        return;
      }
      for (const [key, item] of Object.entries(value)) {
        const at = `${path}[${JSON.stringify(key)}]`;
        if (key.startsWith("$"))
          violations.push({ field: at, description: 'keys starting with "$" are not accepted' });
        else if (field.mapKind === "scalar") checkScalar(field.scalar, item, at, violations);
        else if (field.mapKind === "enum") checkEnum(field.enum, item, at, violations);
        else checkMessageJson(field.message, item, at, violations);
      }
    }
  }
}

const int64Text = /^-?(0|[1-9][0-9]*)$/;

/** Checks a scalar's JSON form. */
function checkScalar(type: ScalarType, value: Json, path: string, violations: FieldViolation[]): void {
  const fail = (rule: string) => violations.push({ field: path, description: rule });
  switch (type) {
    case ScalarType.STRING:
      if (typeof value !== "string") fail("must be a string");
      return;
    case ScalarType.BOOL:
      if (typeof value !== "boolean") fail("must be true or false");
      return;
    case ScalarType.BYTES:
      if (typeof value !== "string" || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(value)) fail("must be base64 text");
      return;
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      if (typeof value === "number") return;
      if (
        typeof value !== "string" ||
        !(["NaN", "Infinity", "-Infinity"].includes(value) || isNumeric(value))
      )
        fail("must be a number");
      return;
    default: {
      // Integers: a JSON number without a fraction, or its decimal text (int64 travels as text).
      const text = typeof value === "number" ? String(value) : value;
      if (typeof text !== "string" || !int64Text.test(text)) {
        fail("must be an integer");
        return;
      }
      const n = BigInt(text);
      const [min, max] = integerRange(type);
      if (n < min || n > max) fail(`must be between ${min} and ${max}`);
    }
  }
}

function isNumeric(text: string): boolean {
  return text.trim() !== "" && Number.isFinite(Number(text));
}

function integerRange(type: ScalarType): [bigint, bigint] {
  switch (type) {
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return [-(2n ** 31n), 2n ** 31n - 1n];
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return [0n, 2n ** 32n - 1n];
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return [0n, 2n ** 64n - 1n];
    default:
      return [-(2n ** 63n), 2n ** 63n - 1n];
  }
}

function checkEnum(desc: DescEnum, value: Json, path: string, violations: FieldViolation[]): void {
  if (typeof value === "string" && desc.values.some((v) => v.name === value)) return;
  if (typeof value === "number" && desc.values.some((v) => v.number === value)) return;
  violations.push({
    field: path,
    description: `must be one of ${desc.values.map((v) => v.name).join(", ")}`,
  });
}

function refuseOperatorKeys(value: Json, path: string, violations: FieldViolation[]): void {
  if (value === null || typeof value !== "object") return;
  const entries: [string, Json][] = Array.isArray(value)
    ? value.map((item, i): [string, Json] => [`[${i}]`, item])
    : Object.entries(value).map(([key, item]): [string, Json] => [`.${key}`, item]);
  for (const [step, item] of entries) {
    if (step.startsWith(".$"))
      violations.push({ field: `${path}${step}`, description: 'keys starting with "$" are not accepted' });
    else refuseOperatorKeys(item, `${path}${step}`, violations);
  }
}

export type { Json };

// The OpenAPI 3.1 document of the REST surface, built from the same descriptors and the same bindings
// (http-rule.ts) the route table serves, so the two cannot disagree. Schemas follow protobuf's JSON
// mapping (lowerCamelCase names, enums as strings, int64 as decimal text, well-known types in their
// string forms); every object refuses unknown properties, as the gateway does.
import type { DescEnum, DescField, DescMessage, DescMethod, DescService } from "@bufbuild/protobuf";
import { getOption, ScalarType } from "@bufbuild/protobuf";
import {
  FieldBehavior,
  field_behavior as fieldBehavior,
} from "@retail/contracts/google/api/field_behavior_pb";
import { derivedScope } from "../access/route-scope.js";
import { type HttpBinding, httpBindings, requestIdField } from "../transcoding/http-rule.js";
import { channelEndpointPaths, requiring } from "./channel-endpoints-doc.js";
import type { DocumentExample } from "./examples.js";

type Schema = Record<string, unknown>;
/** Leading comments of a descriptor, when the generator has them (protoplugin's getComments). */
export type Describe = (
  desc: DescMessage | DescField | DescMethod | DescEnum | DescService,
) => string | undefined;

const wkt: Record<string, Schema> = {
  "google.protobuf.Timestamp": { type: "string", format: "date-time" },
  "google.protobuf.Duration": { type: "string", pattern: "^-?[0-9]+(\\.[0-9]{1,9})?s$", examples: ["1.5s"] },
  "google.protobuf.FieldMask": { type: "string" },
  "google.protobuf.Empty": { type: "object", additionalProperties: false },
  "google.protobuf.Struct": { type: "object" },
  "google.protobuf.Value": {},
  "google.protobuf.StringValue": { type: "string" },
  "google.protobuf.BoolValue": { type: "boolean" },
  "google.protobuf.Int32Value": { type: "integer", format: "int32" },
  "google.protobuf.Int64Value": { type: ["string", "integer"], format: "int64" },
  "google.protobuf.DoubleValue": { type: "number" },
};

const statusSchema: Schema = {
  type: "object",
  description:
    "google.rpc.Status: the gRPC code, a message for people, and typed details (BadRequest field violations, ErrorInfo reason).",
  properties: {
    code: { type: "integer", format: "int32" },
    message: { type: "string" },
    details: {
      type: "array",
      items: { type: "object", properties: { "@type": { type: "string" } }, required: ["@type"] },
    },
  },
  required: ["code", "message"],
};

const apiDescription = `REST for external channels, transcoded from the google.api.http annotations of the mesh's contracts, and the channels' own webhooks and file imports. Authenticate with an API key (X-Api-Key) or a JWT (Authorization: Bearer). Every response carries X-Request-Id.

## Idempotency-Key
- Scope: per client. Your key is stored as \`<client id>:<key>\`: another client's same key is another request.
- Retention: 24 hours (\`IDEMPOTENCY_RETENTION_MS\`) after the first request finished; a key older than that runs again.
- Keys: 1 to 255 printable ASCII characters; a UUID per logical request is a good key.
- A repeat of a request that finished gets the first answer, status and body alike, with the header \`Idempotent-Replayed: true\`; nothing runs again.
- 409 \`IDEMPOTENCY_KEY_IN_FLIGHT\` (with \`Retry-After\`): the first request with this key is still running; retry after it.
- 422 \`IDEMPOTENCY_KEY_REUSED\`: the key was used with another request (compared as decoded, not byte for byte).
- A transient failure (503 UNAVAILABLE, 504 DEADLINE_EXCEEDED, 409 ABORTED, 429 RESOURCE_EXHAUSTED, 500 INTERNAL or UNKNOWN, 499 CANCELLED) is not stored: the retry with the same key runs again.
- Required on operations with a request id (every command whose repetition would apply twice: submitting an order, recording a movement, a shipment, a payment event...): the key becomes that request id. Optional elsewhere.

## Outcomes and refusals
One rule for every command: a request the mesh accepts answers 200 with the resource as it stands; what became of the resource is in its status (an order the mesh could not take, for lack of stock or a refused payment, is \`ORDER_STATUS_REJECTED\` with its \`rejectionReasons\`: read \`order.status\`). A request the mesh refuses without creating or changing anything answers an error status: 400 (\`INVALID_ARGUMENT\` with field violations in the JSON names you sent, or \`FAILED_PRECONDITION\` such as insufficient stock for a direct reservation), 404, 409; the body is google.rpc.Status with an ErrorInfo reason to branch on.`;

/**
 * Builds the document for the given services (only their annotated unary methods), with each
 * operation's examples (examples.ts: request parameters and body, answers) by operationId.
 */
export function buildOpenApi(
  services: readonly DescService[],
  describe: Describe = () => undefined,
  examples: Readonly<Record<string, DocumentExample>> = {},
  version = "1",
): Schema {
  const schemas: Record<string, Schema> = { "google.rpc.Status": statusSchema };
  const ref = (desc: DescMessage | DescEnum): Schema => {
    const known = desc.kind === "message" ? wkt[desc.typeName] : undefined;
    if (known) return known;
    if (!schemas[desc.typeName]) {
      schemas[desc.typeName] = {}; // reserve first: messages may refer to themselves
      schemas[desc.typeName] =
        desc.kind === "enum" ? enumSchema(desc, describe) : messageSchema(desc, describe, ref, new Set());
    }
    return { $ref: `#/components/schemas/${desc.typeName}` };
  };
  const paths: Record<string, Record<string, unknown>> = {};
  for (const service of services) {
    for (const method of service.methods) {
      httpBindings(method).forEach((binding, index) => {
        const path = openApiPath(binding);
        paths[path] ??= {};
        paths[path][binding.verb.toLowerCase()] = operation(service, binding, index, describe, ref);
      });
    }
  }
  for (const [path, item] of Object.entries(channelEndpointPaths)) paths[path] = item;
  for (const item of Object.values(paths))
    for (const op of Object.values(item) as Schema[]) {
      const example = examples[op.operationId as string];
      if (example) placeExample(op, example);
    }
  return {
    openapi: "3.1.0",
    info: {
      title: "Retail integration mesh REST API",
      version,
      description: apiDescription,
    },
    servers: [{ url: "/" }],
    paths,
    components: {
      schemas,
      securitySchemes: {
        apiKey: { type: "apiKey", in: "header", name: "X-Api-Key" },
        bearerJwt: { type: "http", scheme: "bearer", bearerFormat: "JWT" },
      },
    },
  };
}

/** Puts an operation's examples where tools show them: on each parameter, the body's and each answer's media type. */
function placeExample(op: Schema, example: DocumentExample): void {
  for (const parameter of (op.parameters as Schema[] | undefined) ?? []) {
    const value = example.parameters[parameter.name as string];
    if (value !== undefined) parameter.example = value;
  }
  const body = op.requestBody as { content: Record<string, Schema> } | undefined;
  if (body && example.body !== undefined) {
    const media = body.content[example.contentType] ?? Object.values(body.content)[0];
    if (media) media.example = example.body;
  }
  const responses = op.responses as Record<string, { content?: Record<string, Schema> }>;
  for (const [status, answers] of Object.entries(example.responses)) {
    const media = responses[status]?.content?.["application/json"];
    if (!media) continue;
    media.examples = Object.fromEntries(
      answers.map(({ name, summary, value }) => [name, { ...(summary ? { summary } : {}), value }]),
    );
  }
}

/** An operation's id: the service and method, and the binding's index past the first ("_1"). */
export function operationIdOf(service: DescService, method: DescMethod, index: number): string {
  return `${service.name}_${method.name}${index > 0 ? `_${index}` : ""}`;
}

function openApiPath(binding: HttpBinding): string {
  return binding.template.source.replace(/\{([^}=]+)(=[^}]*)?\}/g, "{$1}");
}

function operation(
  service: DescService,
  binding: HttpBinding,
  index: number,
  describe: Describe,
  ref: (d: DescMessage | DescEnum) => Schema,
) {
  const { method } = binding;
  const scope = derivedScope(method, binding.verb);
  const idField = requestIdField(method.input);
  const parameters: Schema[] = [];
  for (const [name, fields] of binding.pathFields) {
    const leaf = fields.at(-1) as DescField;
    const description = describe(leaf);
    parameters.push({
      name,
      in: "path",
      required: true,
      ...(description ? { description } : {}),
      schema: fieldSchema(leaf, ref),
    });
  }
  if (binding.body !== "*") {
    const bound = new Set([...binding.pathFields.keys()]);
    for (const [name, field] of queryFields(
      method.input,
      { proto: "", json: "" },
      bound,
      binding.body,
      idField,
      0,
    ))
      parameters.push({
        name,
        in: "query",
        required: false,
        // The proto comment of the field: what a parameter like source.sourceSystem is for.
        ...(describe(field) ? { description: describe(field) } : {}),
        schema: fieldSchema(field, ref),
        ...(field.fieldKind === "list" ? { style: "form", explode: true } : {}),
      });
  }
  if (binding.verb !== "GET" && binding.verb !== "DELETE")
    parameters.push({
      name: "Idempotency-Key",
      in: "header",
      required: idField !== undefined,
      description:
        idField !== undefined
          ? "Required: this operation changes state and applies once per key (the key becomes its request id). See Idempotency-Key in the API description."
          : "Optional: a retry with the same key gets the first answer instead of running again. See Idempotency-Key in the API description.",
      schema: { type: "string", minLength: 1, maxLength: 255 },
    });
  const op: Schema = {
    operationId: operationIdOf(service, method, index),
    tags: [service.name],
    summary: describe(method)?.split("\n")[0] ?? method.name,
    description: `${describe(method) ?? ""}\n\nRequires the scope \`${scope}\`.`.trim(),
    ...requiring(scope),
    parameters,
    responses: {
      "200": { description: "OK", content: { "application/json": { schema: responseSchema(binding, ref) } } },
      default: {
        description: "An error",
        content: { "application/json": { schema: { $ref: "#/components/schemas/google.rpc.Status" } } },
      },
    },
  };
  if (binding.body === "*") {
    const full = messageSchema(
      method.input,
      describe,
      ref,
      new Set([...binding.pathFields.keys(), ...(idField ? [idField.name] : [])]),
    );
    op.requestBody = { required: true, content: { "application/json": { schema: full } } };
  } else if (binding.body) {
    op.requestBody = {
      required: true,
      content: { "application/json": { schema: fieldSchema(binding.body, ref) } },
    };
  }
  return op;
}

function responseSchema(binding: HttpBinding, ref: (d: DescMessage | DescEnum) => Schema): Schema {
  return binding.responseBody ? fieldSchema(binding.responseBody, ref) : ref(binding.method.output);
}

/** Query parameters by JSON name: scalar, enum and repeated scalar fields, through singular messages (depth 3). */
function queryFields(
  message: DescMessage,
  prefix: { proto: string; json: string },
  bound: Set<string>,
  body: DescField | undefined,
  idField: DescField | undefined,
  depth: number,
): [string, DescField][] {
  return message.fields.flatMap((field): [string, DescField][] => {
    const protoPath = `${prefix.proto}${field.name}`;
    const name = `${prefix.json}${field.jsonName}`;
    if (bound.has(protoPath) || field === body || field === idField) return [];
    if (field.fieldKind === "scalar" || field.fieldKind === "enum") return [[name, field]];
    if (field.fieldKind === "list" && field.listKind !== "message") return [[name, field]];
    if (field.fieldKind === "message") {
      if (wkt[field.message.typeName]) return [[name, field]];
      if (depth < 2)
        return queryFields(
          field.message,
          { proto: `${protoPath}.`, json: `${name}.` },
          bound,
          undefined,
          undefined,
          depth + 1,
        );
    }
    return [];
  });
}

function messageSchema(
  message: DescMessage,
  describe: Describe,
  ref: (d: DescMessage | DescEnum) => Schema,
  omit: Set<string>,
): Schema {
  const properties: Record<string, Schema> = {};
  const required: string[] = [];
  for (const field of message.fields) {
    if (omit.has(field.name)) continue;
    const description = describe(field);
    properties[field.jsonName] = { ...fieldSchema(field, ref), ...(description ? { description } : {}) };
    if (getOption(field, fieldBehavior).includes(FieldBehavior.REQUIRED)) required.push(field.jsonName);
  }
  const description = describe(message);
  return {
    type: "object",
    ...(description ? { description } : {}),
    properties,
    ...(required.length > 0 ? { required } : {}),
    additionalProperties: false,
  };
}

function enumSchema(desc: DescEnum, describe: Describe): Schema {
  const description = describe(desc);
  return { type: "string", enum: desc.values.map((v) => v.name), ...(description ? { description } : {}) };
}

function fieldSchema(field: DescField, ref: (d: DescMessage | DescEnum) => Schema): Schema {
  if (field.fieldKind === "list") return { type: "array", items: valueSchema(field, ref) };
  if (field.fieldKind === "map") return { type: "object", additionalProperties: valueSchema(field, ref) };
  return valueSchema(field, ref);
}

/** The schema of one value of a field (of each element of a list or map): scalar, enum or message. */
function valueSchema(field: DescField, ref: (d: DescMessage | DescEnum) => Schema): Schema {
  if (field.scalar !== undefined) return scalarSchema(field.scalar);
  const desc = field.enum ?? field.message;
  if (!desc) throw new Error(`${field.parent.typeName}.${field.name} has no value type`);
  return ref(desc);
}

function scalarSchema(type: ScalarType): Schema {
  switch (type) {
    case ScalarType.STRING:
      return { type: "string" };
    case ScalarType.BOOL:
      return { type: "boolean" };
    case ScalarType.BYTES:
      return { type: "string", contentEncoding: "base64" };
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return { type: "number" };
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return {
        type: ["string", "integer"],
        format: "int64",
        description: "64-bit integer; sent as decimal text",
      };
    default:
      return { type: "integer", format: "int32" };
  }
}

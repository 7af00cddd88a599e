// The REST bindings of an RPC, read from its google.api.http option: the rule itself and each of its
// additional_bindings, with the template parsed and the body and response fields resolved against the
// request and response messages. The route table and the OpenAPI generator both start here, so the
// document describes exactly what the gateway serves.
import { type DescField, type DescMessage, type DescMethod, getOption, hasOption } from "@bufbuild/protobuf";
import { http } from "@retail/contracts/google/api/annotations_pb";
import type { HttpRule } from "@retail/contracts/google/api/http_pb";
import { type PathTemplate, parsePathTemplate, TemplateSyntaxError } from "./path-template.js";

export type HttpVerb = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** One REST binding of an RPC. */
export interface HttpBinding {
  readonly method: DescMethod;
  readonly verb: HttpVerb;
  readonly template: PathTemplate;
  /** Fields bound by path variables, by dotted proto path. */
  readonly pathFields: ReadonlyMap<string, readonly DescField[]>;
  /** "*" (the whole request), a top-level request field, or undefined (no body). */
  readonly body: "*" | DescField | undefined;
  /** The response field sent as the body, or undefined for the whole response. */
  readonly responseBody: DescField | undefined;
}

/** The request field the gateway fills from the Idempotency-Key header, when the request has one. */
export function requestIdField(message: DescMessage): DescField | undefined {
  const field = message.fields.find((f) => f.name === "request_id");
  return field?.fieldKind === "scalar" ? field : undefined;
}

/** Every binding of a method: its google.api.http rule and the rule's additional_bindings. */
export function httpBindings(method: DescMethod): HttpBinding[] {
  if (!hasOption(method, http)) return [];
  const rule = getOption(method, http);
  return [rule, ...rule.additionalBindings].map((r) => toBinding(method, r));
}

function toBinding(method: DescMethod, rule: HttpRule): HttpBinding {
  const where = `${method.parent.typeName}.${method.name}`;
  const { verb, path } = verbAndPath(rule, where);
  const template = parsePathTemplate(path);
  const pathFields = new Map<string, readonly DescField[]>();
  for (const variable of template.variables) {
    const fields = resolveFieldPath(method.input, variable.fieldPath, where);
    const leaf = fields.at(-1);
    if (leaf?.fieldKind !== "scalar" && leaf?.fieldKind !== "enum")
      throw new TemplateSyntaxError(
        path,
        `${where}: variable "${variable.fieldPath.join(".")}" must be a scalar`,
      );
    pathFields.set(variable.fieldPath.join("."), fields);
  }
  let body: HttpBinding["body"];
  if (rule.body === "*") body = "*";
  else if (rule.body !== "") body = resolveFieldPath(method.input, [rule.body], where)[0];
  const responseBody =
    rule.responseBody === "" ? undefined : resolveFieldPath(method.output, [rule.responseBody], where)[0];
  return { method, verb, template, pathFields, body, responseBody };
}

function verbAndPath(rule: HttpRule, where: string): { verb: HttpVerb; path: string } {
  switch (rule.pattern.case) {
    case "get":
      return { verb: "GET", path: rule.pattern.value };
    case "post":
      return { verb: "POST", path: rule.pattern.value };
    case "put":
      return { verb: "PUT", path: rule.pattern.value };
    case "patch":
      return { verb: "PATCH", path: rule.pattern.value };
    case "delete":
      return { verb: "DELETE", path: rule.pattern.value };
    default:
      // Custom HTTP methods (HEAD, OPTIONS …) have no REST use here and are refused when routes are built.
      throw new Error(`${where}: google.api.http pattern "${rule.pattern.case ?? "none"}" is not supported`);
  }
}

/** Resolves a dotted proto field path through singular message fields. */
export function resolveFieldPath(message: DescMessage, path: readonly string[], where: string): DescField[] {
  const fields: DescField[] = [];
  let current: DescMessage | undefined = message;
  for (const name of path) {
    const field: DescField | undefined = current?.fields.find((f) => f.name === name);
    if (!field) throw new Error(`${where}: ${message.typeName} has no field "${path.join(".")}"`);
    fields.push(field);
    current = field.fieldKind === "message" ? field.message : undefined;
  }
  return fields;
}

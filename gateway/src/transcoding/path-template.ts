// The path template grammar of google/api/http.proto, parsed once per route and matched per request:
//
//   Template = "/" Segments [ Verb ] ;   Segments = Segment { "/" Segment } ;
//   Segment  = "*" | "**" | LITERAL | Variable ;   Variable = "{" FieldPath [ "=" Segments ] "}" ;
//   FieldPath = IDENT { "." IDENT } ;   Verb = ":" LITERAL ;
//
// As in grpc-gateway and Envoy: a variable without a pattern is `{x=*}`; "**" matches the rest of the
// path and may only come last; a variable over one segment is fully percent-decoded, a variable over
// several keeps "%2F" encoded so the value still splits where the path did.

/** One segment of a parsed template. */
export type TemplateSegment =
  | { readonly kind: "literal" /** percent-decoded */; readonly value: string }
  | { readonly kind: "wildcard" }
  | { readonly kind: "deep-wildcard" };

/** A variable binds the segments [start, end) of the template (end undefined: to the end of the path). */
export interface TemplateVariable {
  /** Proto field path: ["location", "location_id"]. */
  readonly fieldPath: readonly string[];
  readonly start: number;
  readonly end: number | undefined;
}

export interface PathTemplate {
  readonly source: string;
  readonly segments: readonly TemplateSegment[];
  readonly variables: readonly TemplateVariable[];
  readonly verb: string | undefined;
}

/** A template that breaks the grammar; raised when routes are built, never per request. */
export class TemplateSyntaxError extends Error {
  constructor(template: string, problem: string) {
    super(`path template "${template}": ${problem}`);
  }
}

const ident = /^[A-Za-z_][A-Za-z0-9_]*$/;
const literal = /^[A-Za-z0-9\-._~!$&'()+,;=@%]+$/;

/** Parses a google.api.http path template, or throws TemplateSyntaxError. */
export function parsePathTemplate(template: string): PathTemplate {
  const fail = (problem: string): never => {
    throw new TemplateSyntaxError(template, problem);
  };
  if (!template.startsWith("/")) fail("must start with /");
  let body = template.slice(1);
  let verb: string | undefined;
  const lastSlash = body.lastIndexOf("/");
  const lastBrace = body.lastIndexOf("}");
  const colon = body.lastIndexOf(":");
  if (colon > lastSlash && colon > lastBrace) {
    verb = body.slice(colon + 1);
    body = body.slice(0, colon);
    if (!literal.test(verb)) fail(`verb "${verb}" is not a literal`);
  }
  const segments: TemplateSegment[] = [];
  const variables: TemplateVariable[] = [];
  for (const part of splitOutsideBraces(body, fail)) {
    if (part.startsWith("{")) {
      if (!part.endsWith("}")) fail(`unclosed variable "${part}"`);
      const inner = part.slice(1, -1);
      const eq = inner.indexOf("=");
      const path = eq < 0 ? inner : inner.slice(0, eq);
      const fieldPath = path.split(".");
      if (!fieldPath.every((name) => ident.test(name))) fail(`"${path}" is not a field path`);
      const start = segments.length;
      const pattern = eq < 0 ? "*" : inner.slice(eq + 1);
      for (const sub of pattern.split("/")) segments.push(plainSegment(sub, fail));
      const deep = segments.some((s, i) => i >= start && s.kind === "deep-wildcard");
      variables.push({ fieldPath, start, end: deep ? undefined : segments.length });
    } else {
      segments.push(plainSegment(part, fail));
    }
  }
  const deepAt = segments.findIndex((s) => s.kind === "deep-wildcard");
  if (deepAt >= 0 && deepAt !== segments.length - 1) fail(`"**" may only be the last segment`);
  const seen = new Set<string>();
  for (const v of variables) {
    const key = v.fieldPath.join(".");
    if (seen.has(key)) fail(`variable "${key}" appears twice`);
    seen.add(key);
  }
  return { source: template, segments, variables, verb };
}

function splitOutsideBraces(body: string, fail: (problem: string) => never): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const char of body) {
    if (char === "{") depth++;
    if (char === "}") depth--;
    if (depth < 0 || depth > 1) fail("variables may not nest");
    if (char === "/" && depth === 0) {
      parts.push(current);
      current = "";
    } else {
      current += char;
    }
  }
  if (depth !== 0) fail("unbalanced braces");
  parts.push(current);
  return parts;
}

function plainSegment(text: string, fail: (problem: string) => never): TemplateSegment {
  if (text === "*") return { kind: "wildcard" };
  if (text === "**") return { kind: "deep-wildcard" };
  if (!literal.test(text)) fail(`"${text}" is not a literal segment`);
  try {
    return { kind: "literal", value: decodeURIComponent(text) }; // decoded once, compared per request
  } catch {
    return fail(`"${text}" has a malformed percent-escape`);
  }
}

/** A path that does not decode (a bad percent-escape): the request is malformed, not unrouted. */
export class PathEncodingError extends Error {}

/** A request path (without the query) cut at its slashes once, for matching against every template. */
export function splitPath(path: string): string[] | undefined {
  return path.startsWith("/") ? path.slice(1).split("/") : undefined;
}

/**
 * Matches a request path (without the query) against the template: the variables' decoded values by
 * field path, or undefined when the path does not match.
 */
export function matchPathTemplate(template: PathTemplate, path: string): Map<string, string> | undefined {
  const parts = splitPath(path);
  return parts && matchSegments(template, parts);
}

/** matchPathTemplate on a path already split by splitPath (the route table splits once per request). */
export function matchSegments(
  template: PathTemplate,
  path: readonly string[],
): Map<string, string> | undefined {
  let parts = path;
  if (template.verb !== undefined) {
    const last = parts.at(-1) ?? "";
    if (!last.endsWith(`:${template.verb}`)) return undefined;
    parts = [...parts.slice(0, -1), last.slice(0, -(template.verb.length + 1))];
  }
  const { segments } = template;
  const deep = segments.at(-1)?.kind === "deep-wildcard";
  if (deep ? parts.length < segments.length - 1 : parts.length !== segments.length) return undefined;
  for (const [i, segment] of segments.entries()) {
    const part = parts[i];
    if (segment.kind === "deep-wildcard") break;
    if (part === undefined || part === "") return undefined;
    if (segment.kind === "literal" && decodeSegment(part, false) !== segment.value) return undefined;
  }
  const values = new Map<string, string>();
  for (const variable of template.variables) {
    const taken = parts.slice(variable.start, variable.end);
    const single = variable.end !== undefined && variable.end - variable.start === 1;
    values.set(
      variable.fieldPath.join("."),
      single ? decodeSegment(taken[0] ?? "", false) : taken.map((p) => decodeSegment(p, true)).join("/"),
    );
  }
  return values;
}

/** Percent-decodes one segment; keepSlash leaves "%2F" encoded (reserved expansion, RFC 6570). */
function decodeSegment(segment: string, keepSlash: boolean): string {
  try {
    if (!keepSlash) return decodeURIComponent(segment);
    return segment
      .split(/(%2F)/i)
      .map((piece) => (/^%2F$/i.test(piece) ? piece.toUpperCase() : decodeURIComponent(piece)))
      .join("");
  } catch {
    throw new PathEncodingError(`path segment "${segment}" has a malformed percent-escape`);
  }
}

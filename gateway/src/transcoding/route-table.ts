// Every REST route of the mesh, built from the services' descriptors at start: adding an annotated RPC
// to a service adds its route here with no gateway change. Matching prefers custom-verb templates
// ("/v1/orders/{order_id}:cancel") over plain ones, then templates with more literal segments, so the
// most specific template wins as in grpc-gateway.
import type { DescService } from "@bufbuild/protobuf";
import { type HttpBinding, type HttpVerb, httpBindings } from "./http-rule.js";
import { matchSegments, splitPath } from "./path-template.js";

export interface Route {
  readonly service: DescService;
  readonly binding: HttpBinding;
}

export type RouteMatch =
  | { readonly kind: "found"; readonly route: Route; readonly pathValues: Map<string, string> }
  | { readonly kind: "method-not-allowed"; readonly allow: readonly HttpVerb[] }
  | { readonly kind: "not-found" };

export interface RouteTable {
  readonly routes: readonly Route[];
  match(verb: string, path: string): RouteMatch;
}

/** Builds the table; throws at start when two bindings claim the same verb and template. */
export function createRouteTable(services: readonly DescService[]): RouteTable {
  const routes = services.flatMap((service) =>
    service.methods
      .filter((m) => m.methodKind === "unary")
      .flatMap((method) => httpBindings(method).map((binding) => ({ service, binding }))),
  );
  const seen = new Map<string, string>();
  for (const { binding } of routes) {
    const key = `${binding.verb} ${binding.template.source.replace(/\{[^}]*\}/g, "{}")}`;
    const other = seen.get(key);
    if (other) throw new Error(`${key} is bound twice: ${other} and ${binding.method.name}`);
    seen.set(key, binding.method.name);
  }
  const ordered = [...routes].sort((a, b) => specificity(b) - specificity(a));
  return {
    routes,
    match(verb, path) {
      const allow = new Set<HttpVerb>();
      const parts = splitPath(path);
      if (!parts) return { kind: "not-found" };
      for (const route of ordered) {
        const pathValues = matchSegments(route.binding.template, parts);
        if (!pathValues) continue;
        if (route.binding.verb === verb) return { kind: "found", route, pathValues };
        allow.add(route.binding.verb);
      }
      return allow.size > 0 ? { kind: "method-not-allowed", allow: [...allow] } : { kind: "not-found" };
    },
  };
}

function specificity({ binding }: Route): number {
  const literals = binding.template.segments.filter((s) => s.kind === "literal").length;
  return (
    (binding.template.verb ? 1000 : 0) +
    literals * 10 -
    (binding.template.segments.at(-1)?.kind === "deep-wildcard" ? 5 : 0)
  );
}

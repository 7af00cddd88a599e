// The scope a route needs: "<domain>:read" for GET, "<domain>:write" for anything else, where the domain
// is the second part of the service's proto package (retail.order.v1 -> "order"). The clients file can
// override it per RPC (say "finance:close" for ClosePeriod). The OpenAPI document states the same scope.
import type { DescMethod } from "@bufbuild/protobuf";

/** The scope derived from the contract alone. */
export function derivedScope(method: DescMethod, verb: string): string {
  const domain = method.parent.typeName.split(".")[1] ?? method.parent.name.toLowerCase();
  return `${domain}:${verb === "GET" ? "read" : "write"}`;
}

/** The scope in force: an override by the RPC's full name, else the derived one. */
export function routeScope(
  method: DescMethod,
  verb: string,
  overrides: Readonly<Record<string, string>>,
): string {
  return overrides[`${method.parent.typeName}.${method.name}`] ?? derivedScope(method, verb);
}

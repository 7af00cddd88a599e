import { isIP } from "node:net";

/**
 * Why a subscription's URL is refused, or undefined. Deliveries leave the mesh over https; plain http
 * is allowed only to a host inside the retailer's own network (loopback, a private address, or a
 * cluster-local name without a dot), where TLS is the network's business.
 */
export function endpointUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "must be an absolute http(s) URL";
  }
  if (url.username || url.password) return "must not carry credentials";
  if (url.hash) return "must not have a fragment";
  if (url.protocol === "https:") return undefined;
  if (url.protocol !== "http:") return "must be an https:// URL";
  return isPrivateHost(url.hostname)
    ? undefined
    : "must be https:// (http:// only to a loopback, private or cluster-local host)";
}

function isPrivateHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "");
  if (host === "localhost" || (!host.includes(".") && isIP(host) === 0)) return true;
  if (isIP(host) === 6) return host === "::1" || /^f[cd]/i.test(host);
  if (isIP(host) !== 4) return host.endsWith(".svc.cluster.local") || host.endsWith(".internal");
  const [a = 0, b = 0] = host.split(".").map(Number);
  return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
}

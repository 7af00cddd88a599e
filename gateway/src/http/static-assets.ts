// Files the gateway serves as they are, loaded once at start: the API page (/docs) and the operations
// console (/console). Nothing is fetched from the internet by either page.
import type { ServerResponse } from "node:http";

export interface StaticAssets {
  /** By path ("/docs", "/console/console.js"). */
  readonly files: ReadonlyMap<string, { type: string; body: Buffer }>;
  /** Sent with every file (a content security policy, say). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** Answers a path with its file, or 404; `index` is the path a trailing slash means. */
export function serveAsset(
  assets: StaticAssets,
  path: string,
  index: string,
  response: ServerResponse,
): void {
  const file = assets.files.get(path === `${index}/` ? index : path);
  if (!file) {
    response.writeHead(404).end();
    return;
  }
  response.writeHead(200, {
    "content-type": file.type,
    "content-length": file.body.length,
    "cache-control": "public, max-age=3600",
    ...assets.headers,
  });
  response.end(file.body);
}

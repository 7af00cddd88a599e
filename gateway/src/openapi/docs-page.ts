// The interactive API page for people: Swagger UI (from the swagger-ui-dist package, served from this
// process, nothing fetched from the internet) over the gateway's own /openapi.json.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

import type { StaticAssets } from "../http/static-assets.js";

const page = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Retail mesh REST API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body></html>`;

const init = `window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#ui", deepLinking: true });`;

/** Loads Swagger UI's files once at start. */
export function loadDocsAssets(): StaticAssets {
  const dist = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
  const files = new Map<string, { type: string; body: Buffer }>([
    ["/docs", { type: "text/html; charset=utf-8", body: Buffer.from(page) }],
    ["/docs/init.js", { type: "text/javascript", body: Buffer.from(init) }],
    ["/docs/swagger-ui.css", { type: "text/css", body: readFileSync(join(dist, "swagger-ui.css")) }],
    [
      "/docs/swagger-ui-bundle.js",
      { type: "text/javascript", body: readFileSync(join(dist, "swagger-ui-bundle.js")) },
    ],
  ]);
  return { files };
}

// The operations console's files (gateway/console: a page, a stylesheet, an ES module) and uPlot from
// its npm package, served at /console under a policy that lets the page load only what this gateway
// serves and call only this gateway.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { StaticAssets } from "./static-assets.js";

/** Loads the console's files once at start (from src/ and dist/ alike: gateway/console). */
export function loadConsoleAssets(): StaticAssets {
  const own = fileURLToPath(new URL("../../console/", import.meta.url));
  const uplot = dirname(createRequire(import.meta.url).resolve("uplot/package.json"));
  const file = (type: string, path: string) => ({ type, body: readFileSync(path) });
  return {
    files: new Map([
      ["/console", file("text/html; charset=utf-8", join(own, "index.html"))],
      ["/console/console.js", file("text/javascript", join(own, "console.js"))],
      ["/console/console.css", file("text/css", join(own, "console.css"))],
      ["/console/uPlot.esm.js", file("text/javascript", join(uplot, "dist", "uPlot.esm.js"))],
      ["/console/uPlot.min.css", file("text/css", join(uplot, "dist", "uPlot.min.css"))],
    ]),
    headers: {
      "content-security-policy":
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
    },
  };
}

// The gateway README's "A channel developer's first ten minutes", run as written (bash and curl) against
// a running mesh with the development clients: what a new channel developer copies must work.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { uniqueName } from "@retail/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ClientsJson, type GatewayMesh, startGatewayMesh } from "./harness.js";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const devClients = JSON.parse(
  readFileSync(new URL("../config/clients.dev.json", import.meta.url), "utf8"),
) as ClientsJson;
let mesh: GatewayMesh;

beforeAll(async () => {
  mesh = await startGatewayMesh("quickstart", devClients);
}, 120_000);
afterAll(async () => mesh?.stopAll(), 60_000);

/** The README's quick start block, pointed at this mesh, with ids of this run. */
function quickStart(): string {
  const from = readme.indexOf("### A channel developer's first ten minutes");
  const start = readme.indexOf("```sh\n", from) + 6;
  const block = readme.slice(start, readme.indexOf("```\n", start));
  const run = uniqueName("qs").replace(/[^a-zA-Z0-9]/g, "");
  return block
    .replace("G=http://127.0.0.1:8080", `G=${mesh.url}`)
    .replaceAll("qs-", `${run}-`)
    .replaceAll("QS-MUG", `${run}-MUG`);
}

describe("the README's quick start", () => {
  it("stocks a SKU, reads availability, takes an order once under its key, rejects one too big, and names a bad request's fields", async () => {
    // Not spawnSync: the gateway answering curl runs in this process.
    const { stdout: out } = await promisify(execFile)("bash", ["-e", "-c", quickStart()], {
      timeout: 60_000,
    });
    const statuses = [...out.matchAll(/"status":"(ORDER_STATUS_[A-Z_]+)"/g)].map((m) => m[1]);
    // Accepted, the same order replayed, then the one too big rejected with its reason.
    expect(statuses).toEqual(["ORDER_STATUS_ACCEPTED", "ORDER_STATUS_ACCEPTED", "ORDER_STATUS_REJECTED"]);
    expect(out.match(/idempotent-replayed: true/gi)).toHaveLength(1);
    expect(out).toMatch(/"rejectionReasons":\["insufficient stock: [^"]+ requested 50, available 8"\]/);
    expect(out).toMatch(/"availability":\[\{"sku":"[^"]+","locationId":"DC-1"[^\]]*"available":"10"/);
    expect(out).toContain('{"field":"channelOrderId","description":"is required"}');
  });
});

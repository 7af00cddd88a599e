// The operators' command line (`mesh`, packages/cli) as a process against a running mesh: status,
// exceptions, traces, parked messages and their replay, a read model's rebuild, a subscriber's dead
// deliveries sent again, and a settlement file imported with its progress, its rejected row and its
// repeat; and the exit codes a script branches on.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PaymentCapturedSchema } from "@retail/contracts/retail/order/v1/order_events_pb";
import { testAmqpUrl, uniqueName, until } from "@retail/platform/testing";
import amqplib from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { settlementColumns, settlementRow } from "./bodies.js";
import { type GatewayMesh, startGatewayMesh } from "./harness.js";
import { operatorClient, restClient } from "./rest-client.js";

const key = "cli-operator-key";
const cli = fileURLToPath(new URL("../../packages/cli/src/main.ts", import.meta.url));
let mesh: GatewayMesh;
const { post, receive, receivedLate, submitOrder, setUpLocations } = restClient(() => mesh, key);

beforeAll(async () => {
  mesh = await startGatewayMesh("cli", {
    clients: [operatorClient(key)],
  });
  await setUpLocations();
}, 120_000);
afterAll(async () => mesh?.stopAll(), 60_000);

/** Runs `mesh` with the arguments, as a script would. */
function mesh_(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], {
      env: { ...process.env, MESH_URL: mesh.url, MESH_API_KEY: key, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.once("error", reject);
    child.once("exit", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe("mesh, the command line", () => {
  it("shows the mesh's status for people and for scripts", async () => {
    const human = await mesh_(["status"]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^SERVICE\s+INSTANCE\s+OUTBOX\s+READY\s+RETRYING\s+PARKED\s+CONSUMERS/);
    for (const service of [
      "customer-identity",
      "inventory",
      "order",
      "finance-posting",
      "delivery",
      "operations",
    ])
      expect(human.stdout).toContain(service);
    const scripted = await mesh_(["status", "--json"]);
    expect(scripted.code).toBe(0);
    const json = JSON.parse(scripted.stdout);
    expect(json.services.every((s: { error: string }) => s.error === "")).toBe(true);
  });

  it("lists exceptions by kind and age, and traces an order", async () => {
    const sku = uniqueName("SKU");
    await receive(sku, "DC-1", 5);
    // A count the store sent twenty minutes late: a late stock update.
    await receivedLate(sku, 20, "store-feed");
    const listed = await until(async () => {
      const run = await mesh_([
        "exceptions",
        "--kind",
        "late_stock_update",
        "--source",
        "store-feed",
        "--json",
      ]);
      expect(run.code, run.stderr).toBe(0);
      const items = JSON.parse(run.stdout).filter((e: { subject: string }) => e.subject === `${sku}@DC-1`);
      expect(items).toHaveLength(1);
      return items[0];
    });
    expect(listed.reason).toMatch(/recorded 20 min after it happened at store-feed/);
    const human = await mesh_(["exceptions", "--kind", "LATE_STOCK_UPDATE", "--older-than", "10m"]);
    expect(human.stdout).toMatch(new RegExp(`2\\d min\\s+LATE_STOCK_UPDATE\\s+${sku}@DC-1`));
    expect((await mesh_(["exceptions", "--older-than", "ten minutes"])).code).toBe(2);

    const order = await submitOrder(sku, 1);
    const traced = await until(async () => {
      const run = await mesh_(["trace", order.orderId]);
      expect(run.stdout).toContain("order.order_accepted");
      return run;
    });
    expect(traced.stdout).toMatch(/^\+MS\s+WHEN\s+EVENT\s+FROM\s+AGGREGATE/);
    expect(traced.stdout).toContain("inventory.stock_reserved");
  });

  it("lists a parked message and replays it once, however often the command is run", async () => {
    const eventId = randomUUID();
    const connection = await amqplib.connect(testAmqpUrl());
    const channel = await connection.createConfirmChannel();
    channel.publish(mesh.exchange, "order.payment_captured", Buffer.from([0xff, 0xff]), {
      persistent: true,
      messageId: eventId,
      headers: {
        "ce-id": eventId,
        "ce-type": PaymentCapturedSchema.typeName,
        "ce-source": "order",
        "ce-subject": `order:${eventId}`,
        "ce-time": new Date().toISOString(),
      },
    });
    await channel.waitForConfirms();
    await connection.close();
    const parked = await until(async () => {
      const run = await mesh_(["parked", "--service", "finance-posting", "--json"]);
      const ours = JSON.parse(run.stdout).messages.filter(
        (m: { message: { eventId: string } }) => m.message.eventId === eventId,
      );
      expect(ours).toHaveLength(1);
      return ours[0].message;
    });
    const human = await mesh_(["parked", "--service", "finance-posting"]);
    expect(human.stdout).toContain(eventId);
    const replay = ["replay", "--service", "finance-posting", "--queue", parked.queue, "--event", eventId];
    expect((await mesh_(replay)).code).toBe(2); // no reason given
    const done = await mesh_([...replay, "--reason", "reader fixed"]);
    expect([done.code, done.stdout.trim()]).toEqual([
      0,
      "Replayed 1 message(s) to finance-posting's consumer; 0 left parked.",
    ]);
    const again = await mesh_([...replay, "--reason", "reader fixed"]);
    expect(again.stdout).toMatch(
      /^Already replayed under this key: 1 message\(s\) went back then; nothing moved now\./,
    );
  });

  it("has a read model rebuilt, names what it refuses, and sends a subscriber its dead deliveries again", async () => {
    const rebuilt = await mesh_([
      "rebuild",
      "--service",
      "inventory",
      "--read-model",
      "availability",
      "--reason",
      "audit",
    ]);
    expect([rebuilt.code, rebuilt.stdout.trim()]).toEqual([
      0,
      "Every inventory instance rebuilds its availability read model now (audited).",
    ]);
    const refused = await mesh_([
      "rebuild",
      "--service",
      "inventory",
      "--read-model",
      "stock",
      "--reason",
      "audit",
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /refused: .*readModel: is not one of this service's read models \(availability\)/,
    );
    const created = await post("/v1/subscriptions", {
      subscriptionId: "cli-erp",
      url: "http://127.0.0.1:9/nowhere",
      filter: { eventTypes: ["order.order_accepted"] },
    });
    expect(created.status).toBe(200);
    const exported = await mesh_(["export", "--subscription", "cli-erp"]);
    expect([exported.code, exported.stdout.trim()]).toEqual([
      0,
      "Sent 0 deliveries back to pending for cli-erp.",
    ]);
  });

  it("imports a settlement file with a progress bar, names its rejected row, and applies nothing twice", async () => {
    const settlementId = String(Date.now());
    const fee = settlementRow({
      "transaction-type": "Storage Fee",
      "adjustment-id": "storage-1",
      "other-amount": "-0.01",
    });
    const file = join(mkdtempSync(join(tmpdir(), "mesh-cli-")), "settlement.tsv");
    writeFileSync(
      file,
      [
        settlementColumns.join("\t"),
        settlementRow({
          "settlement-id": settlementId,
          "total-amount": "0.00",
          currency: "USD",
          "deposit-date": "2026-11-20",
        }),
        ...Array.from({ length: 20_000 }, () => fee),
        settlementRow({ "transaction-type": "Order", "order-id": "111-2", "price-amount": "twelve" }),
      ].join("\n"),
    );
    const first = await mesh_(["import", file, "--as", "amazon-settlement", "--progress"]);
    expect(first.code, first.stderr).toBe(1); // a row was rejected
    expect(first.stderr).toContain("100%");
    expect(first.stdout).toMatch(/^Applied 1; rejected 1; ignored 0\./);
    expect(first.stdout).toMatch(/rejected: row 20003: price-amount .*amount/);
    const again = await mesh_(["import", file, "--as", "amazon-settlement", "--json"]);
    const summary = JSON.parse(again.stdout);
    expect(summary).toMatchObject({ applied: 0, duplicate: true });
    expect(summary.rejected).toHaveLength(1);
    expect((await mesh_(["import", file, "--as", "csv"])).code).toBe(2);
  });

  it("exits 3 when the key is refused or the gateway cannot be reached, and 2 on a wrong command line", async () => {
    const badKey = await mesh_(["status"], { MESH_API_KEY: "not-a-key" });
    expect([badKey.code, badKey.stderr]).toEqual([3, expect.stringMatching(/refused the key/)]);
    const away = await mesh_(["status", "--url", "http://127.0.0.1:9"]);
    expect([away.code, away.stderr]).toEqual([3, expect.stringMatching(/cannot reach the gateway/)]);
    expect((await mesh_(["frobnicate"])).code).toBe(2);
    expect((await mesh_(["trace"])).code).toBe(2);
  });
});

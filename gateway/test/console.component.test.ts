// The operations console (/console) in headless Chromium (Debian's package, driven by playwright-core)
// against a running mesh: signed in with the keyboard, the overview shows the services and a parked
// message, an exception this test caused is found by kind and opens its trace, and a parked message is
// replayed with a confirmation and seen cleared. Screenshots go to .mesh/artifacts/console/.
import { existsSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { OrderAcceptedSchema } from "@retail/contracts/retail/order/v1/order_events_pb";
import { testAmqpUrl, uniqueName, until } from "@retail/platform/testing";
import amqplib from "amqplib";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GatewayMesh, startGatewayMesh } from "./harness.js";
import { operatorClient, restClient } from "./rest-client.js";

const key = "console-operator-key";
const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const artifacts = fileURLToPath(new URL("../../.mesh/artifacts/console/", import.meta.url));
let mesh: GatewayMesh;
let browser: Browser;
let page: Page;
const { receive, receivedLate, submitOrder, setUpLocations } = restClient(() => mesh, key);

beforeAll(async () => {
  if (!existsSync(chromiumPath))
    throw new Error(
      `Chromium is not at ${chromiumPath}: install Debian's chromium package (apt-get install --no-install-recommends chromium; .ci/run does it on a fresh machine) or set CHROMIUM_PATH`,
    );
  mkdirSync(artifacts, { recursive: true });
  mesh = await startGatewayMesh(
    "console",
    {
      clients: [operatorClient(key)],
    },
    {},
    "warn",
    // A sample every half second instead of every minute, so the overview's charts have a history.
    { STATUS_SAMPLE_MS: "500" },
  );
  await setUpLocations();
  browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ["--no-sandbox"] });
  page = await browser.newPage({ viewport: { width: 1366, height: 860 } });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await mesh?.stopAll();
}, 60_000);

const shot = (name: string) => page.screenshot({ path: `${artifacts}${name}.png`, fullPage: true });

describe("the operations console", () => {
  it("shows nothing without a key, and signs in with the keyboard", async () => {
    await page.goto(`${mesh.url}/console`);
    await page.getByLabel("Operator API key").waitFor();
    expect(await page.getByRole("navigation", { name: "Views" }).isVisible()).toBe(false);
    // A wrong key: refused, still nothing shown.
    await page.keyboard.type("not-the-key");
    await page.keyboard.press("Enter");
    await page.getByText(/the gateway refused the key/).waitFor();
    expect(await page.getByRole("heading", { name: "Overview" }).count()).toBe(0);
    await shot("1-sign-in-refused");
    await page.getByLabel("Operator API key").fill("");
    await page.keyboard.type(key);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Overview" }).waitFor();
  });

  it("finds an exception this test caused by its kind, and opens its trace", async () => {
    const sku = uniqueName("SKU");
    await receive(sku, "DC-1", 3);
    await receivedLate(sku, 30, "store-feed");
    await until(async () => {
      await page.getByRole("link", { name: "Exceptions", exact: true }).click();
      await page.getByLabel("Kind").selectOption("LATE_STOCK_UPDATE");
      await page.getByRole("button", { name: "Filter" }).click();
      await page.getByRole("cell", { name: `${sku}@DC-1`, exact: true }).waitFor({ timeout: 1_000 });
    });
    const row = page.getByRole("row").filter({ hasText: `${sku}@DC-1` });
    expect(await row.textContent()).toMatch(/30 minLATE_STOCK_UPDATE/);
    await shot("2-exceptions-late-stock");
    await row.getByRole("link", { name: `Trace ${sku}@DC-1` }).click();
    await page.getByRole("heading", { name: /^Trace of correlation / }).waitFor();
    await page.getByRole("cell", { name: "inventory.stock_movement_recorded" }).first().waitFor();
    await shot("3-trace");
  });

  it("shows a parked message on the overview, replays it with a confirmation, and sees it cleared", async () => {
    // Finance parked an accepted order while its database was away (copied into its parking queue as
    // the consumer parks): now back, the replay succeeds.
    const capture = await mesh.capture(["order.order_accepted"]);
    const sku = uniqueName("SKU");
    await receive(sku, "DC-1", 2);
    const order = await submitOrder(sku, 1);
    const accepted = await until(() => {
      const found = capture.events.find((e) => e.subject === `order:${order.orderId}`);
      expect(found).toBeDefined();
      return found as NonNullable<typeof found>;
    });
    const queue = mesh.consumerQueues.find((q) => q.endsWith(".finance.order-events")) ?? "";
    const connection = await amqplib.connect(testAmqpUrl());
    const channel = await connection.createConfirmChannel();
    channel.sendToQueue(`${queue}.parking`, Buffer.from(accepted.data), {
      persistent: true,
      messageId: accepted.id,
      headers: {
        "ce-id": accepted.id,
        "ce-type": OrderAcceptedSchema.typeName,
        "ce-source": "order",
        "ce-subject": accepted.subject,
        "ce-time": new Date().toISOString(),
        "x-original-routing-key": "order.order_accepted",
        "x-failure-reason": "MongoServerSelectionError: finance's database was unreachable",
        "x-failed-at": new Date().toISOString(),
        "x-attempts": 4,
      },
    });
    await channel.waitForConfirms();
    await connection.close();

    await page.getByRole("link", { name: "Overview" }).click();
    const finance = page.getByRole("row").filter({ hasText: "finance-posting" });
    await until(async () => {
      await page.getByRole("link", { name: "Overview" }).click();
      expect(await finance.getByRole("cell").nth(5).textContent({ timeout: 1_000 })).toBe("1");
    });
    // The last hour as charts: events and lag, and messages waiting (the parked one among them).
    await page.getByRole("img", { name: "Events received and longest wait (s)" }).waitFor();
    await page.getByRole("img", { name: "Messages waiting" }).waitFor();
    expect(await page.locator(".chart canvas").count()).toBe(2);
    // The gateway's own dependencies: every service it calls, serving.
    expect(
      await page.getByRole("row").filter({ hasText: "retail.order.v1.OrderService" }).textContent(),
    ).toContain("SERVING");
    await shot("4-overview-one-parked");

    await page.getByRole("link", { name: "Parked messages" }).click();
    const parkedRow = page.getByRole("row").filter({ hasText: accepted.id });
    await parkedRow.waitFor();
    expect(await parkedRow.textContent()).toContain("finance's database was unreachable");
    // Its payload decoded from the event's descriptor, the order it carries.
    await parkedRow.getByText("Payload").click();
    expect(await parkedRow.locator("pre").textContent()).toContain(order.orderId);
    await page.getByLabel(`Select ${accepted.id}`).check();
    await page.getByLabel("Reason").fill("finance's database is back");
    await page.getByRole("button", { name: "Replay selected" }).click();
    const confirm = page.getByRole("alertdialog", { name: "Confirm replay" });
    await confirm.waitFor();
    expect(await confirm.textContent()).toContain("Send 1 parked message(s) back to their consumers?");
    await shot("5-replay-confirmation");
    // Confirmed from the keyboard: the dialog's first button has the focus.
    await page.keyboard.press("Enter");
    await page.getByText("Replayed 1 message(s).").waitFor();
    await until(async () => {
      await page.getByRole("link", { name: "Parked messages" }).click();
      await page.getByRole("heading", { name: "Parked messages" }).waitFor();
      expect(await page.getByRole("row").filter({ hasText: accepted.id }).count()).toBe(0);
    });
    await shot("6-parked-cleared");
  }, 60_000);
});

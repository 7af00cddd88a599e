// The whole mesh behind a real gateway: the four services as processes of their own on free ports (the
// order service behind a TCP proxy a test can hold or cut), the gateway composed in this process on a
// free port, with a clients file the test can rewrite. Each test file gets its own databases, events
// exchange and queue prefix. Calls go over real HTTP with fetch.
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { CustomerIdentityService } from "@retail/contracts/retail/customer/v1/customer_service_pb";
import { FinancePostingService } from "@retail/contracts/retail/finance/v1/finance_service_pb";
import { InventoryService } from "@retail/contracts/retail/inventory/v1/inventory_service_pb";
import { OrderService } from "@retail/contracts/retail/order/v1/order_service_pb";
import { createLogger } from "@retail/platform/log";
import { startServiceOnFreePorts, startServiceProcess } from "@retail/platform/processes";
import { newServiceKeys } from "@retail/platform/rpc";
import {
  captureEvents,
  deleteRunQueues,
  dropTestDatabases,
  type EventCapture,
  startTcpProxy,
  type TcpProxy,
  testAmqpUrl,
  testMongoUrl,
  testServiceEnv,
  uniqueName,
} from "@retail/platform/testing";
import { MongoClient } from "mongodb";
import { consumerQueues as deliveryQueues } from "../../services/delivery/src/compose.ts";
import { consumerQueues as financeQueues } from "../../services/finance-posting/src/compose.ts";
import { consumerQueues as inventoryQueues } from "../../services/inventory/src/compose.ts";
import { consumerQueues as operationsQueues } from "../../services/operations/src/compose.ts";
import { consumerQueues as orderQueues } from "../../services/order/src/compose.ts";
import { composeGateway, consumerQueues as gatewayQueues, type RunningGateway } from "../src/compose.js";
import { loadGatewayConfig } from "../src/config.js";
import { createRouteTable } from "../src/transcoding/route-table.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The consumer queues the services declare, as each names its own (deleted with the test's exchange). */
const consumerQueues = [
  ...inventoryQueues,
  ...orderQueues,
  ...financeQueues,
  ...deliveryQueues,
  ...operationsQueues,
  ...gatewayQueues,
];

/** Every REST route of the mesh, as the gateway builds them from the four services' descriptors. */
export const meshRoutes = () =>
  createRouteTable([CustomerIdentityService, InventoryService, OrderService, FinancePostingService]).routes;

/** The clients file as tests write it (checked by the gateway, not here). */
export interface ClientsJson {
  clients: unknown[];
  jwtIssuers?: unknown[];
  shopifyShops?: unknown[];
  stripeEndpoints?: unknown[];
  x12Partners?: unknown[];
  x12Warehouses?: unknown[];
  amazonMarketplaces?: unknown[];
  posStores?: unknown[];
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests read JSON answers freely
  readonly json: any;
}

export interface CallOptions {
  key?: string;
  body?: unknown;
  /** Sent as is (for malformed JSON and oversized bodies). */
  rawBody?: string;
  idempotencyKey?: string;
  headers?: Record<string, string>;
}

export interface GatewayMesh {
  readonly url: string;
  readonly exchange: string;
  /** The proxy between the gateway and the order service. */
  readonly orderProxy: TcpProxy;
  call(verb: string, path: string, options?: CallOptions): Promise<HttpAnswer>;
  writeClients(file: ClientsJson): void;
  /** Everything the gateway logged so far. */
  logs(): string;
  /** Everything the four services wrote so far (their logs, at the harness's service log level). */
  serviceLogs(): string;
  /** The services' RPC addresses, by the gateway's variable for each (FINANCE_POSTING_URL, ...). */
  readonly serviceUrls: Readonly<Record<string, string>>;
  /** The MESH_SERVICE_KEYS every process of this mesh runs with: the services answer only peers signing with them. */
  readonly serviceKeys: string;
  /** The databases of this mesh: customer, inventory, order, finance, gateway, delivery, operations. */
  readonly databases: readonly string[];
  /** The consumer queues of this mesh (each with its retry and parking queues). */
  readonly consumerQueues: readonly string[];
  /** A line of the gateway's metrics (its value), or undefined. */
  metric(pattern: RegExp): Promise<number | undefined>;
  /** The state of an Idempotency-Key record ("in-flight", "done"), read from the gateway's database. */
  idempotencyState(clientId: string, key: string): Promise<string | undefined>;
  capture(bindings: string[]): Promise<EventCapture>;
  /**
   * Another gateway replica as a process of its own, configured like this one plus `env`, in front of
   * the same services, databases and clients file; stopped by stopAll.
   */
  startReplica(env: Record<string, string>): Promise<{ readonly url: string }>;
  /** Stops one of the services (SIGTERM, its drain) until startService starts it again on its ports. */
  stopService(service: string): Promise<void>;
  startService(service: string): Promise<void>;
  stopAll(): Promise<void>;
}

export async function startGatewayMesh(
  name: string,
  clients: ClientsJson,
  gatewayEnv: Record<string, string> = {},
  /** The services' log level ("warn" unless a test reads their logs). */
  serviceLogLevel = "warn",
  /** More environment for every service process (not the in-process gateway). */
  serviceEnv: Record<string, string> = {},
): Promise<GatewayMesh> {
  const exchange = uniqueName(`ex_${name}`);
  const databases = ["customer", "inventory", "order", "finance", "gateway", "delivery", "operations"].map(
    (d) => uniqueName(`${d}_${name}`),
  );
  const children: ChildProcess[] = [];
  const serviceLogs: string[] = [];
  let stopping = false;
  const serviceKeys = newServiceKeys(name);
  const urls: Record<string, string> = {};
  /** Each service's process (none while a test has it stopped) and what starts it again on its ports. */
  const services = new Map<
    string,
    { child?: ChildProcess; env: Record<string, string>; metricsPort: number }
  >();
  const watch = (service: string, child: ChildProcess) => {
    children.push(child);
    // A service that dies under a test says so at once, with what it said last (a test then failing
    // with 503s is explained in the run's output, not only in this mesh's logs).
    child.once("exit", (code, signal) => {
      if (stopping || services.get(service)?.child !== child) return;
      const said = serviceLogs.join("").split("\n").slice(-20).join("\n");
      console.error(
        `[gateway harness ${name}] ${service} exited (${code ?? signal}) before the mesh was stopped:\n${said}`,
      );
    });
  };
  const start = async (service: string, database: string, env: Record<string, string> = {}) => {
    const serviceEnvironment = {
      ...testServiceEnv(database, exchange),
      MESH_SERVICE_KEYS: serviceKeys,
      LOG_LEVEL: serviceLogLevel,
      ...serviceEnv,
      ...env,
    };
    const { child, port, metricsPort } = await startServiceOnFreePorts({
      name: service,
      dir: join(root, "services", service),
      output: (chunk) => serviceLogs.push(chunk),
      env: serviceEnvironment,
    });
    services.set(service, {
      child,
      env: { ...serviceEnvironment, PORT: String(port), METRICS_PORT: String(metricsPort) },
      metricsPort,
    });
    watch(service, child);
    return port;
  };
  const [customer, inventory, order, finance, gatewayDb, delivery, operations] = databases as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  urls.CUSTOMER_IDENTITY_URL = `http://127.0.0.1:${await start("customer-identity", customer)}`;
  urls.INVENTORY_URL = `http://127.0.0.1:${await start("inventory", inventory)}`;
  const orderPort = await start("order", order, {
    CUSTOMER_IDENTITY_URL: urls.CUSTOMER_IDENTITY_URL,
    INVENTORY_URL: urls.INVENTORY_URL,
  });
  const orderProxy = await startTcpProxy({ host: "127.0.0.1", port: orderPort });
  urls.ORDER_URL = `http://127.0.0.1:${orderProxy.port}`;
  urls.FINANCE_POSTING_URL = `http://127.0.0.1:${await start("finance-posting", finance)}`;
  urls.DELIVERY_URL = `http://127.0.0.1:${await start("delivery", delivery)}`;
  // Operations reaches every service's admin RPCs (parked messages) by their addresses.
  urls.OPERATIONS_URL = `http://127.0.0.1:${await start("operations", operations, { ...urls })}`;

  const dir = mkdtempSync(join(tmpdir(), "gateway-clients-"));
  const clientsPath = join(dir, "clients.json");
  const writeClients = (file: ClientsJson) => writeFileSync(clientsPath, JSON.stringify(file));
  writeClients(clients);
  const gatewayEnvironment = {
    ...testServiceEnv(gatewayDb, exchange),
    MESH_SERVICE_KEYS: serviceKeys,
    ...urls,
    GATEWAY_CLIENTS_FILE: clientsPath,
    ...gatewayEnv,
  };
  const config = loadGatewayConfig(gatewayEnvironment);
  const logLines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  const gateway: RunningGateway = await composeGateway(
    config,
    createLogger({ service: "gateway", level: "debug", destination }),
  );
  const url = `http://127.0.0.1:${gateway.port}`;
  const mongo = await new MongoClient(testMongoUrl()).connect();
  const cleanups: Array<() => Promise<void>> = [];
  return {
    url,
    exchange,
    orderProxy,
    async call(verb, path, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      if (options.key) headers["x-api-key"] = options.key;
      if (options.idempotencyKey) headers["idempotency-key"] = options.idempotencyKey;
      const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
      if (body !== undefined) headers["content-type"] ??= "application/json";
      const response = await fetch(`${url}${path}`, {
        method: verb,
        headers,
        ...(body === undefined ? {} : { body }),
      });
      const text = await response.text();
      return {
        status: response.status,
        headers: response.headers,
        json: text ? JSON.parse(text) : undefined,
      };
    },
    writeClients,
    serviceUrls: { ...urls, ORDER_URL: `http://127.0.0.1:${orderPort}` },
    serviceKeys,
    logs: () => logLines.join(""),
    serviceLogs: () => serviceLogs.join(""),
    databases,
    consumerQueues: consumerQueues.map((q) => `${exchange}.${q}`),
    async metric(pattern) {
      const text = await (await fetch(`http://127.0.0.1:${gateway.metricsPort}/metrics`)).text();
      const line = text.split("\n").find((l) => pattern.test(l));
      return line === undefined ? undefined : Number(line.split(" ").at(-1));
    },
    async idempotencyState(clientId, key) {
      const record = await mongo
        .db(gatewayDb)
        .collection<{ _id: string; state: string }>("idempotency_keys")
        .findOne({ _id: `${clientId}:${key}` });
      return record?.state;
    },
    async capture(bindings) {
      const capture = await captureEvents(testAmqpUrl(), exchange, bindings);
      cleanups.push(() => capture.close());
      return capture;
    },
    async startReplica(env) {
      const { child, port } = await startServiceOnFreePorts({
        name: "gateway replica",
        dir: join(root, "gateway"),
        output: (chunk) => serviceLogs.push(chunk),
        env: { ...gatewayEnvironment, LOG_LEVEL: serviceLogLevel, ...env },
      });
      children.push(child);
      return { url: `http://127.0.0.1:${port}` };
    },
    async stopService(service) {
      const running = services.get(service);
      if (!running) throw new Error(`no service ${service} in this mesh`);
      const { child, ...rest } = running;
      services.set(service, rest);
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
    async startService(service) {
      const stopped = services.get(service);
      if (!stopped) throw new Error(`no service ${service} in this mesh`);
      const child = await startServiceProcess({
        name: service,
        dir: join(root, "services", service),
        output: (chunk) => serviceLogs.push(chunk),
        env: stopped.env,
        metricsPort: stopped.metricsPort,
      });
      services.set(service, { ...stopped, child });
      watch(service, child);
    },
    async stopAll() {
      stopping = true;
      await gateway.stop();
      await mongo.close();
      await orderProxy.close();
      for (const child of children.splice(0)) {
        if (child.exitCode !== null || child.signalCode !== null) continue;
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }
      for (const cleanup of cleanups.splice(0)) await cleanup();
      await deleteRunQueues(testAmqpUrl(), `${exchange}.`, consumerQueues, exchange);
      await dropTestDatabases(...databases);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

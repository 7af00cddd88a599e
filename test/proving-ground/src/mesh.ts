// The mesh a day runs on: started here (every service and the gateway as processes of their own, on
// free ports, with databases, an exchange and queues of this run), or one already running (`npm start`).
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startServiceOnFreePorts, startServiceProcess } from "@retail/platform/processes";
import { newServiceKeys } from "@retail/platform/rpc";
import { deleteRunQueues, startTcpProxy, type TcpProxy } from "@retail/platform/testing";
import { MongoClient } from "mongodb";
import { sha256Hex } from "../../../gateway/src/access/clients.ts";
import { consumerQueues as gatewayQueues } from "../../../gateway/src/compose.ts";
import { up } from "../../../scripts/infra.ts";
import { consumerQueues as deliveryQueues } from "../../../services/delivery/src/compose.ts";
import { consumerQueues as financeQueues } from "../../../services/finance-posting/src/compose.ts";
import { consumerQueues as inventoryQueues } from "../../../services/inventory/src/compose.ts";
import { consumerQueues as operationsQueues } from "../../../services/operations/src/compose.ts";
import { consumerQueues as orderQueues } from "../../../services/order/src/compose.ts";
import { type ChannelSecrets, devSecrets, partnerSenderId } from "./channels.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

export interface MeshUnderTest {
  readonly gatewayUrl: string;
  readonly apiKey: string;
  /** The storefront's and payment provider's webhook secrets the gateway knows. */
  readonly secrets: ChannelSecrets;
  /** Metrics ports by process name (gateway and each service); empty for a mesh not started here. */
  readonly metricsPorts: Readonly<Record<string, number>>;
  /** Process ids by name, for the CPU each spends; empty for a mesh not started here. */
  readonly pids: Readonly<Record<string, number>>;
  /** The storage and broker it runs on (known only for a mesh started here). */
  readonly infrastructure?: {
    readonly mongodbUrl: string;
    readonly amqpUrl: string;
    /** The run's MESH_SERVICE_KEYS: the services answer only peers signing with them. */
    readonly serviceKeys: string;
  };
  /** Each service's RPC address and database, by name (known only for a mesh started here). */
  readonly services?: Readonly<Record<string, { readonly url: string; readonly database: string }>>;
  /** The run's events exchange and its consumer queues, prefixed (known only for a mesh started here). */
  readonly broker?: { readonly exchange: string; readonly consumerQueues: readonly string[] };
  /**
   * Kills a process of a mesh started here (the gateway or a service) with SIGKILL; `restart` starts it
   * again on the same ports with the same environment and resolves when its metrics answer.
   */
  kill?(name: string): Promise<void>;
  restart?(name: string): Promise<void>;
  /** The fault proxies every process reaches the storage and the broker through (a mesh started `proxied`). */
  readonly links?: { readonly storage: TcpProxy; readonly broker: TcpProxy };
  stop(): Promise<void>;
}

/**
 * A mesh already running: its gateway and an API key of a client with every scope; its webhooks are
 * signed with the secrets of gateway/config/clients.dev.json (`npm start`'s).
 */
export function attachMesh(gatewayUrl: string, apiKey: string): MeshUnderTest {
  return { gatewayUrl, apiKey, secrets: devSecrets, metricsPorts: {}, pids: {}, stop: async () => {} };
}

/**
 * Every consumer queue of the mesh (without the run's prefix), as each composition root names its own:
 * deleted with the run, with their retry and parking queues, so runs leave no queues behind (hundreds
 * of idle quorum queues wear a broker down).
 */
const meshQueues = [
  ...inventoryQueues,
  ...orderQueues,
  ...financeQueues,
  ...deliveryQueues,
  ...operationsQueues,
  ...gatewayQueues,
];

/** Each process's consumer queues (names without the run's prefix), by the name the mesh gives it. */
export const queuesOf: Readonly<Record<string, readonly string[]>> = {
  inventory: inventoryQueues,
  order: orderQueues,
  "finance-posting": financeQueues,
  delivery: deliveryQueues,
  operations: operationsQueues,
  gateway: gatewayQueues,
};

/** A run's id: its seed and the moment, so runs on one broker and storage never share a name. */
export const runId = (seed: number) => `${seed}${Date.now().toString(36)}`;

/** The mesh a run works on: the running one named by its options, else one started for the run. */
export function meshFor(
  options: { readonly gatewayUrl?: string; readonly apiKey?: string },
  run: string,
  say: (line: string) => void,
): Promise<MeshUnderTest> {
  return options.gatewayUrl && options.apiKey
    ? Promise.resolve(attachMesh(options.gatewayUrl, options.apiKey))
    : startMesh(run, say);
}

const services = [
  { name: "customer-identity", dir: "services/customer-identity" },
  { name: "inventory", dir: "services/inventory" },
  { name: "finance-posting", dir: "services/finance-posting" },
  { name: "order", dir: "services/order" },
  { name: "delivery", dir: "services/delivery" },
  { name: "operations", dir: "services/operations" },
] as const;

/** The URL with its host and port replaced by a proxy's on this machine. */
function through(url: string, proxy: TcpProxy): string {
  const proxied = new URL(url);
  proxied.hostname = "127.0.0.1";
  proxied.port = String(proxy.port);
  return proxied.toString();
}

/** A proxy in front of the server a URL names (its default port when it names none). */
function proxyFor(url: string, defaultPort: number): Promise<TcpProxy> {
  const { hostname, port } = new URL(url);
  return startTcpProxy({ host: hostname, port: Number(port || defaultPort) });
}

/**
 * Starts every service and the gateway for one run; `stop` ends them and drops the run's databases.
 * `proxied`: every process reaches the storage and the broker through a fault proxy of this run.
 * `replicated`: services run as two instances each (the second named `<service>-2`) behind a
 * round-robin balancer, sharing their database and queues.
 */
export async function startMesh(
  run: string,
  log: (line: string) => void = () => {},
  options: { proxied?: boolean; replicated?: readonly string[] } = {},
): Promise<MeshUnderTest> {
  const infra = await up(log);
  const exchange = `proving.${run}`;
  const serviceKeys = newServiceKeys(run);
  const links = options.proxied
    ? { storage: await proxyFor(infra.mongodbUrl, 27017), broker: await proxyFor(infra.amqpUrl, 5672) }
    : undefined;
  const base = {
    MESH_SERVICE_KEYS: serviceKeys,
    MONGODB_URL: links ? through(infra.mongodbUrl, links.storage) : infra.mongodbUrl,
    AMQP_URL: links ? through(infra.amqpUrl, links.broker) : infra.amqpUrl,
    EVENTS_EXCHANGE: exchange,
    QUEUE_PREFIX: `${exchange}.`,
    LOG_LEVEL: process.env.PROVING_LOG_LEVEL ?? "warn",
  };
  const databases: string[] = [];
  const children: Array<{ name: string; child: ChildProcess }> = [];
  const pids: Record<string, number> = {};
  const metricsPorts: Record<string, number> = {};
  const urls: Record<string, string> = {};
  const serviceAddresses: Record<string, { url: string; database: string }> = {};
  const dir = mkdtempSync(join(tmpdir(), "proving-ground-"));
  const stop = async () => {
    for (const { child } of children.reverse()) child.kill("SIGTERM");
    // A process whose shutdown cannot finish (its storage gone) is killed after its grace.
    const kill = setTimeout(() => {
      for (const { child } of children) if (child.exitCode === null) child.kill("SIGKILL");
    }, 20_000);
    await Promise.all(
      children.map(({ child }) =>
        child.exitCode === null && child.signalCode === null
          ? new Promise((resolve) => child.once("exit", resolve))
          : undefined,
      ),
    );
    clearTimeout(kill);
    await deleteRunQueues(infra.amqpUrl, `${exchange}.`, meshQueues, exchange).catch(() => undefined);
    const client = await MongoClient.connect(infra.mongodbUrl);
    for (const name of databases)
      await client
        .db(name)
        .dropDatabase()
        .catch(() => undefined);
    await client.close();
    for (const balancer of balancers) await balancer.close();
    await links?.storage.close();
    await links?.broker.close();
    rmSync(dir, { recursive: true, force: true });
  };
  /** How each process was started (its environment includes its ports), to start it again. */
  const launches = new Map<string, { dir: string; env: Record<string, string>; metricsPort: number }>();
  // PROVING_LOG=1 shows the processes' own logs (at PROVING_LOG_LEVEL) prefixed by their name.
  const output = (name: string) =>
    process.env.PROVING_LOG
      ? (chunk: string) => process.stderr.write(prefixed(name, chunk))
      : ("ignore" as const);
  /** Starts a process; a replica (`of` the first instance's name) shares its database and address. */
  const start = async (name: string, unitDir: string, env: Record<string, string>, of?: string) => {
    const database = `proving_${run}_${(of ?? name).replaceAll("-", "_")}`;
    if (!of) databases.push(database);
    const dir = join(root, unitDir);
    const environment = { ...base, MONGODB_DATABASE: database, ...env };
    const started = await startServiceOnFreePorts({ name, dir, output: output(name), env: environment });
    launches.set(name, {
      dir,
      env: { ...environment, PORT: String(started.port), METRICS_PORT: String(started.metricsPort) },
      metricsPort: started.metricsPort,
    });
    children.push({ name, child: started.child });
    metricsPorts[name] = started.metricsPort;
    if (of) return started;
    const url = `http://127.0.0.1:${started.port}`;
    urls[`${name.toUpperCase().replaceAll("-", "_")}_URL`] = url;
    serviceAddresses[name] = { url, database };
    return started;
  };
  /** Balancers in front of services run as two instances, closed with the run. */
  const balancers: TcpProxy[] = [];
  const apiKey = `proving-${run}`;
  const secrets: ChannelSecrets = {
    shopDomain: `proving-${run}.myshopify.com`,
    shopifySecret: `shopify-secret-${run}`,
    stripeSecret: `whsec_proving_${run}`,
    x12SenderId: partnerSenderId,
    x12ApiKey: apiKey,
  };
  writeFileSync(
    join(dir, "clients.json"),
    JSON.stringify({
      clients: [
        {
          id: "proving-ground",
          apiKeySha256: [sha256Hex(apiKey)],
          scopes: ["*"],
          rateLimit: { requestsPerSecond: 100_000, burst: 100_000 },
        },
      ],
      shopifyShops: [
        {
          shopDomain: secrets.shopDomain,
          webhookSecret: secrets.shopifySecret,
          clientId: "proving-ground",
          channelId: "web",
        },
      ],
      stripeEndpoints: [{ webhookSecret: secrets.stripeSecret, clientId: "proving-ground" }],
      x12Partners: [
        { senderId: secrets.x12SenderId, clientId: "proving-ground", channelId: "b2b", taxCode: "standard" },
      ],
    }),
  );
  try {
    for (const service of services) {
      const first = await start(service.name, service.dir, { ...urls });
      if (!options.replicated?.includes(service.name)) continue;
      // A second instance on the same database and queues, both behind a round-robin balancer.
      const second = await start(`${service.name}-2`, service.dir, { ...urls }, service.name);
      const balancer = await startTcpProxy(
        [first.port, second.port].map((port) => ({ host: "127.0.0.1", port })),
      );
      balancers.push(balancer);
      const url = `http://127.0.0.1:${balancer.port}`;
      urls[`${service.name.toUpperCase().replaceAll("-", "_")}_URL`] = url;
      const address = serviceAddresses[service.name];
      if (address) serviceAddresses[service.name] = { ...address, url };
    }
    const gateway = await start("gateway", "gateway", {
      ...urls,
      GATEWAY_CLIENTS_FILE: join(dir, "clients.json"),
    });
    const gatewayUrl = `http://127.0.0.1:${gateway.port}`;
    const deadline = Date.now() + 30_000;
    while (!(await fetch(`${gatewayUrl}/readyz`).catch(() => undefined))?.ok) {
      if (Date.now() > deadline) throw new Error("the gateway did not get ready");
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    for (const { name, child } of children) pids[name] = child.pid ?? 0;
    const infrastructure = { mongodbUrl: infra.mongodbUrl, amqpUrl: infra.amqpUrl, serviceKeys };
    const processOf = (name: string) => {
      const found = children.find((c) => c.name === name);
      if (!found) throw new Error(`no process ${name} in this mesh`);
      return found;
    };
    return {
      gatewayUrl,
      apiKey,
      secrets,
      metricsPorts,
      pids,
      infrastructure,
      services: serviceAddresses,
      broker: { exchange, consumerQueues: meshQueues.map((q) => `${exchange}.${q}`) },
      ...(links ? { links } : {}),
      async kill(name) {
        const { child } = processOf(name);
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGKILL");
        await exited;
      },
      async restart(name) {
        const launch = launches.get(name);
        if (!launch) throw new Error(`no process ${name} in this mesh`);
        const entry = processOf(name);
        entry.child = await startServiceProcess({ name, ...launch, output: output(name) });
        pids[name] = entry.child.pid ?? 0;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

const prefixed = (name: string, chunk: string) =>
  chunk
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => `[${name}] ${line}\n`)
    .join("");

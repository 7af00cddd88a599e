// The faults a fault run injects while a proving day runs, each on a mesh of its own: the broker and
// the storage taken away, processes killed mid-call, events delivered twice or all over again, poison
// on the bus, Idempotency-Key storms and forged webhooks. Each says what it broke and when it was back;
// the day's scorecard then says whether anything was lost, applied twice or oversold.
import { spawnSync } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { originalRoutingKeyHeader } from "@retail/platform/amqp";
import amqplib from "amqplib";
import { killFerretDb, startFerretDb } from "../../../scripts/infra.ts";
import { shopifyOrder, stripeEvent } from "./channels.js";
import type { Day } from "./day.js";
import { type MeshUnderTest, queuesOf } from "./mesh.js";
import { type Answer, RefusedCall, type Rest } from "./rest.js";

/** What a fault works with: a mesh started for its day (processes, broker and storage known). */
export interface FaultContext {
  readonly mesh: MeshUnderTest;
  readonly day: Day;
  readonly say: (line: string) => void;
}

/** What only the fault can see after the day: its own problems and the messages it parked on purpose. */
export interface FaultFindings {
  readonly problems: readonly string[];
  /** Messages each consumer queue should hold in its parking queue because of the fault, by queue. */
  readonly parkedOnPurpose: Readonly<Record<string, number>>;
  /** Figures worth a column (answers compared, forgeries refused). */
  readonly figures: Readonly<Record<string, number>>;
}

export interface Fault {
  readonly name: string;
  readonly what: string;
  /** How its mesh is started beyond the fault proxies every fault day has. */
  readonly mesh?: { readonly replicated?: readonly string[] };
  /** Before the day starts (connections, a wrapped channel client). */
  prepare?(context: FaultContext): Promise<void>;
  /** The channels' client as this fault makes them behave. */
  wrapRest?(rest: Rest): Rest;
  /** Injected a third of the way into the day; resolves when what it broke is back. */
  inject(context: FaultContext): Promise<void>;
  /** After the day's last journey ended, before the mesh is judged. */
  afterDay?(context: FaultContext): Promise<void>;
  findings?(context: FaultContext): Promise<FaultFindings>;
  close?(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Kills a process of the mesh (SIGKILL), does `whileDown`, and starts it again on its ports. */
async function crash(mesh: MeshUnderTest, name: string, whileDown: () => Promise<unknown>): Promise<void> {
  if (!mesh.kill || !mesh.restart) throw new Error("a fault run needs a mesh started here");
  await mesh.kill(name);
  await whileDown();
  await mesh.restart(name);
}

function brokerOf(context: FaultContext) {
  const { infrastructure, broker } = context.mesh;
  if (!infrastructure || !broker) throw new Error("a fault run needs a mesh started here");
  return { amqpUrl: infrastructure.amqpUrl, ...broker };
}

function rabbitmqctl(...args: string[]): void {
  const ran = spawnSync("rabbitmqctl", args, { encoding: "utf8", timeout: 120_000 });
  if (ran.status !== 0)
    throw new Error(
      `rabbitmqctl ${args.join(" ")} failed: ${ran.stderr || ran.error?.message || ran.status}`,
    );
}

/** The broker's application stopped for `seconds` (every connection closed), then started again. */
function brokerStopped(seconds: number): Fault {
  return {
    name: `broker-stop-${seconds}s`,
    what: `RabbitMQ stopped for ${seconds} s (rabbitmqctl stop_app) and started again`,
    async inject({ say }) {
      rabbitmqctl("stop_app");
      say(`broker stopped for ${seconds} s`);
      await sleep(seconds * 1_000);
      rabbitmqctl("start_app");
      rabbitmqctl("await_startup");
    },
  };
}

function run(command: string, ...args: string[]): void {
  const ran = spawnSync(command, args, { encoding: "utf8", timeout: 120_000 });
  if (ran.status !== 0)
    throw new Error(`${command} ${args.join(" ")} failed: ${ran.stderr || ran.error?.message || ran.status}`);
}

/** The broker's Erlang VM killed (SIGKILL, no goodbye to any connection), then the service started again. */
const brokerKilled: Fault = {
  name: "broker-kill",
  what: "RabbitMQ's VM killed with SIGKILL, started again after 5 s (service rabbitmq-server start)",
  async inject({ say }) {
    const found = spawnSync("pgrep", ["-f", "beam.smp.*rabbit"], { encoding: "utf8" });
    const pids = found.stdout.split("\n").filter(Boolean);
    if (pids.length === 0) throw new Error("no RabbitMQ VM (beam.smp) is running on this machine");
    run("kill", "-9", ...pids);
    say(`broker killed (pid ${pids.join(", ")})`);
    await sleep(5_000);
    run("service", "rabbitmq-server", "start");
    rabbitmqctl("await_startup");
  },
};

/** PostgreSQL under FerretDB stopped for `seconds`, then started again. */
function postgresStopped(seconds: number): Fault {
  return {
    name: `postgres-stop-${seconds}s`,
    what: `PostgreSQL (under FerretDB) stopped for ${seconds} s and started again`,
    async inject({ say }) {
      run("service", "postgresql", "stop");
      say(`PostgreSQL stopped for ${seconds} s`);
      await sleep(seconds * 1_000);
      run("service", "postgresql", "start");
    },
  };
}

/**
 * Half again as much work as the mesh sustains, for `seconds`: readers that ask for availability
 * without pause, more at once than the gateway takes in hand. The gateway must shed (503 with
 * Retry-After), answer the rest, and never fail otherwise.
 */
function overload(readers: number, seconds: number): Fault {
  const statuses = new Map<number, number>();
  return {
    name: "overload",
    what: `${readers} readers asking for availability without pause for ${seconds} s, beyond the gateway's limit`,
    async inject({ mesh, day }) {
      const deadline = Date.now() + seconds * 1_000;
      const reader = async (i: number) => {
        for (let n = i; Date.now() < deadline; n += readers) {
          const sku = day.skus[n % day.skus.length]?.sku ?? "";
          const status = await fetch(`${mesh.gatewayUrl}/v1/locations/DC-1/skus/${sku}/availability`, {
            headers: { "x-api-key": mesh.apiKey },
          })
            .then(async (r) => {
              await r.arrayBuffer();
              return r.status;
            })
            .catch(() => 0);
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
        }
      };
      await Promise.all(Array.from({ length: readers }, (_, i) => reader(i)));
    },
    async findings() {
      const failed = [...statuses].filter(([status]) => status !== 200 && status !== 503);
      return {
        problems: failed.map(([status, n]) => `${n} reads answered ${status || "with no answer"}`),
        parkedOnPurpose: {},
        figures: { "reads answered": statuses.get(200) ?? 0, "reads shed (503)": statuses.get(503) ?? 0 },
      };
    },
  };
}

function linkOf(context: FaultContext, link: "storage" | "broker") {
  const proxy = context.mesh.links?.[link];
  if (!proxy) throw new Error("a fault run needs a mesh started with fault proxies");
  return proxy;
}

/** Every connection to the storage or the broker reset, and new ones refused, for `seconds`. */
function linkCut(link: "storage" | "broker", seconds: number): Fault {
  return {
    name: `${link}-link-cut-${seconds}s`,
    what: `every connection to the ${link} reset and refused for ${seconds} s (fault proxy)`,
    async inject(context) {
      const proxy = linkOf(context, link);
      await proxy.cut();
      await sleep(seconds * 1_000);
      await proxy.restore();
    },
  };
}

/** Every byte to and from the storage or the broker delayed by `ms`, for `seconds`. */
function linkLatency(link: "storage" | "broker", ms: number, seconds: number): Fault {
  return {
    name: `${link}-latency-${ms}ms`,
    what: `${ms} ms added each way between every process and the ${link} for ${seconds} s (fault proxy)`,
    async inject(context) {
      const proxy = linkOf(context, link);
      proxy.setLatency(ms);
      await sleep(seconds * 1_000);
      proxy.setLatency(0);
    },
  };
}

/** The storage server crashes (SIGKILL) and comes back a moment later. */
const storageKilled: Fault = {
  name: "ferretdb-kill",
  what: "FerretDB killed with SIGKILL and started again after 2 s",
  async inject({ say }) {
    if (!(await killFerretDb()))
      throw new Error("no FerretDB started by scripts/infra.ts is running: there is nothing of ours to kill");
    await sleep(2_000);
    say(`storage back: ${await startFerretDb(say)}`);
  },
};

/** A process of the mesh crashes mid-load (SIGKILL) and is started again on its ports. */
function processKilled(name: string): Fault {
  return {
    name: `kill-${name}`,
    what: `${name} killed with SIGKILL mid-load and started again`,
    inject: ({ mesh }) => crash(mesh, name, () => sleep(1_000)),
  };
}

/** Inventory, order and finance-posting as two instances each; one of each killed in turn and restarted. */
const replicaKilled: Fault = {
  name: "kill-one-of-two",
  what: "inventory, order and finance-posting as two instances behind a balancer; one of each killed (SIGKILL) in turn",
  mesh: { replicated: ["inventory", "order", "finance-posting"] },
  async inject({ mesh }) {
    for (const name of ["inventory", "order", "finance-posting"]) await crash(mesh, name, () => sleep(3_000));
  },
};

/**
 * Events delivered out of order: finance-posting is killed, ten seconds of order events pile up in its
 * queue, they are taken out and put back shuffled, and it is started again. An event that comes before
 * the one it follows waits in a retry queue until that one has been handled.
 */
/**
 * A consumer away 10 s while the day goes on, then every event waiting in its queues put back in a
 * random order before it comes back: what it consumes must not depend on the order events arrive in.
 */
function reordered(process: string): Fault {
  return {
    name: `reorder-${process}`,
    what: `${process} down 10 s, the events waiting for it put back in random order`,
    async inject(context) {
      const { amqpUrl, exchange } = brokerOf(context);
      await crash(context.mesh, process, async () => {
        await sleep(10_000);
        const connection = await amqplib.connect(amqpUrl);
        try {
          const channel = await connection.createConfirmChannel();
          let moved = 0;
          for (const name of queuesOf[process] ?? []) {
            const queue = `${exchange}.${name}`;
            const taken: amqplib.GetMessage[] = [];
            for (;;) {
              const message = await channel.get(queue, { noAck: false });
              if (!message) break;
              taken.push(message);
            }
            // Fisher-Yates with a fixed seed: the same shuffle for the same day.
            let seed = taken.length;
            for (let i = taken.length - 1; i > 0; i--) {
              seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
              const j = seed % (i + 1);
              [taken[i], taken[j]] = [taken[j] as amqplib.GetMessage, taken[i] as amqplib.GetMessage];
            }
            // Put back straight into the queue, the routing key kept in the header the platform's
            // own retries and replays carry it in (a consumer reads the key the event was published with).
            for (const message of taken)
              channel.sendToQueue(queue, message.content, {
                ...message.properties,
                headers: {
                  ...message.properties.headers,
                  [originalRoutingKeyHeader]:
                    message.properties.headers?.[originalRoutingKeyHeader] ?? message.fields.routingKey,
                },
                persistent: true,
              });
            await channel.waitForConfirms();
            for (const message of taken) channel.ack(message);
            moved += taken.length;
          }
          context.say(`${moved} events for ${process} put back in random order`);
        } finally {
          await connection.close();
        }
      });
    },
  };
}

const copyHeader = "x-proving-copy";

/**
 * A consumer of every event on the run's exchange that publishes each once more, as a broker or a
 * bridge that delivers twice would ("twice"), or keeps them all and publishes every one of them again
 * after the day, in their order ("replay"). Copies carry a header so they are not copied again.
 */
function redelivery(mode: "twice" | "replay"): Fault {
  let connection: amqplib.ChannelModel | undefined;
  let copied = 0;
  const kept: amqplib.ConsumeMessage[] = [];
  let channel: amqplib.ConfirmChannel | undefined;
  let exchange = "";
  const copy = (message: amqplib.ConsumeMessage) =>
    new Promise<void>((resolve, reject) => {
      const { properties } = message;
      channel?.publish(
        exchange,
        message.fields.routingKey,
        message.content,
        {
          contentType: properties.contentType,
          messageId: properties.messageId,
          timestamp: properties.timestamp,
          type: properties.type,
          persistent: true,
          headers: { ...properties.headers, [copyHeader]: 1 },
        },
        (error) => (error ? reject(error) : resolve()),
      );
    }).then(() => {
      copied++;
    });
  return {
    name: mode === "twice" ? "deliver-twice" : "replay-all",
    what:
      mode === "twice"
        ? "every event published a second time as it passes (the same CloudEvent id)"
        : "every event of the day published again, in order, after the day",
    async prepare(context) {
      const broker = brokerOf(context);
      exchange = broker.exchange;
      connection = await amqplib.connect(broker.amqpUrl);
      channel = await connection.createConfirmChannel();
      const { queue } = await channel.assertQueue("", { exclusive: true, autoDelete: true });
      await channel.bindQueue(queue, exchange, "#");
      await channel.consume(queue, (message) => {
        if (!message || !channel) return;
        const settle = channel;
        if (message.properties.headers?.[copyHeader]) settle.ack(message);
        else if (mode === "replay") {
          kept.push(message);
          settle.ack(message);
        } else
          copy(message).then(
            () => settle.ack(message),
            () => settle.nack(message),
          );
      });
    },
    async inject() {},
    async afterDay({ say }) {
      if (mode !== "replay") return;
      say(`replaying all ${kept.length} events of the day`);
      for (const message of kept) await copy(message);
    },
    async findings() {
      return { problems: [], parkedOnPurpose: {}, figures: { "events copied": copied } };
    },
    async close() {
      await connection?.close().catch(() => undefined);
    },
  };
}

/**
 * Messages no consumer can read, published where every consumer of order events listens (inventory's
 * and finance's order consumers, delivery's and operations' consumers of every domain event): half
 * without CloudEvent headers, half with them and a body that is not the event. Each must go to those
 * consumers' parking queues, once, and nothing else may be parked.
 */
function poison(count: number): Fault {
  const listening = [
    "inventory.order-events",
    "finance.order-events",
    "delivery.domain-events",
    "operations.domain-events",
  ];
  return {
    name: "poison",
    what: `${count} unreadable messages on order.shipment_dispatched (half without CloudEvent headers)`,
    async inject(context) {
      const { amqpUrl, exchange } = brokerOf(context);
      const connection = await amqplib.connect(amqpUrl);
      try {
        const channel = await connection.createConfirmChannel();
        for (let i = 0; i < count; i++) {
          const headers =
            i % 2 === 0
              ? {}
              : {
                  "ce-id": `poison-${i}-${randomBytes(4).toString("hex")}`,
                  "ce-type": "retail.order.v1.ShipmentDispatched",
                  "ce-source": "poison",
                  "ce-specversion": "1.0",
                  "ce-time": new Date().toISOString(),
                };
          channel.publish(exchange, "order.shipment_dispatched", randomBytes(48), {
            persistent: true,
            contentType: "application/protobuf",
            headers,
          });
        }
        await channel.waitForConfirms();
      } finally {
        await connection.close();
      }
    },
    async findings(context) {
      const { exchange } = brokerOf(context);
      return {
        problems: [],
        parkedOnPurpose: Object.fromEntries(listening.map((q) => [`${exchange}.${q}`, count])),
        figures: { "poison sent": count },
      };
    },
  };
}

/**
 * While it lasts, every write the channels send under an Idempotency-Key is sent `copies` more times
 * at once. Every answer that succeeds must be the same answer: the key was applied once.
 */
function keyStorm(copies: number, seconds: number): Fault {
  let active = false;
  const answers = new Map<string, string[]>();
  let stormed = 0;
  return {
    name: "key-storm",
    what: `for ${seconds} s each write sent ${copies + 1} times at once under its Idempotency-Key`,
    wrapRest(rest) {
      const send = async (method: string, path: string, body?: unknown, key?: string): Promise<Answer> => {
        if (!active || !key || method === "GET") return rest.send(method, path, body, key);
        stormed++;
        const all = await Promise.all(
          Array.from({ length: copies + 1 }, () => rest.send(method, path, body, key)),
        );
        const ok = all.filter((a) => a.status >= 200 && a.status < 300).map((a) => JSON.stringify(a.body));
        answers.set(`${method} ${path} ${key}`, ok);
        // The channel goes on with an answer that succeeded, when one did.
        return all.find((a) => a.status >= 200 && a.status < 300) ?? (all[0] as Answer);
      };
      return {
        ...rest,
        send,
        async ok(method, path, body, key) {
          const answer = await send(method, path, body, key);
          if (answer.status < 200 || answer.status > 299) throw new RefusedCall(`${method} ${path}`, answer);
          return answer.body;
        },
      };
    },
    async inject() {
      active = true;
      await sleep(seconds * 1_000);
      active = false;
    },
    async findings() {
      const differing = [...answers].filter(([, bodies]) => new Set(bodies).size > 1);
      return {
        problems: differing
          .slice(0, 10)
          .map(([call, bodies]) => `${call}: ${new Set(bodies).size} different answers`),
        parkedOnPurpose: {},
        figures: { "writes stormed": stormed, "keys answered differently": differing.length },
      };
    },
  };
}

/**
 * While it lasts, forged Shopify orders (signed with a secret that is not the shop's) and Stripe
 * captures with a signature two hours old arrive every 200 ms. Each must be refused with 401; the
 * orders they would create show in the scorecard's orders held.
 */
function forgedWebhooks(seconds: number): Fault {
  const statuses: number[] = [];
  return {
    name: "forged-webhooks",
    what: `for ${seconds} s, Shopify orders signed with a wrong secret and Stripe captures signed 2 h ago`,
    async inject({ mesh, day }) {
      const journey = day.journeys.find((j) => j.channel === "web");
      const person = day.people.find((p) => p.id === journey?.person);
      if (!journey || !person) throw new Error("the day has no web order to forge");
      const deadline = Date.now() + seconds * 1_000;
      for (let i = 0; Date.now() < deadline; i++) {
        const forged = { ...journey, channelOrderId: `forged-${day.run}-${i}` };
        const order = shopifyOrder(forged, person, day.run);
        const shopify = await fetch(`${mesh.gatewayUrl}/webhooks/shopify`, {
          method: "POST",
          body: order,
          headers: {
            "content-type": "application/json",
            "x-shopify-topic": "orders/create",
            "x-shopify-shop-domain": mesh.secrets.shopDomain,
            "x-shopify-webhook-id": `forged-${i}`,
            "x-shopify-hmac-sha256": createHmac("sha256", "not-the-shop-secret")
              .update(order)
              .digest("base64"),
          },
        });
        statuses.push(shopify.status);
        const capture = stripeEvent("capture", `forged-${day.run}-${i}`, `forged-order-${i}`, 1_000);
        const t = Math.floor(Date.now() / 1_000) - 7_200;
        const v1 = createHmac("sha256", mesh.secrets.stripeSecret).update(`${t}.${capture}`).digest("hex");
        const stripe = await fetch(`${mesh.gatewayUrl}/webhooks/stripe`, {
          method: "POST",
          body: capture,
          headers: { "content-type": "application/json", "stripe-signature": `t=${t},v1=${v1}` },
        });
        statuses.push(stripe.status);
        await sleep(200);
      }
    },
    async findings() {
      const letIn = statuses.filter((s) => s !== 401);
      return {
        problems: letIn.length
          ? [`${letIn.length} forged webhooks answered ${[...new Set(letIn)]}, not 401`]
          : [],
        parkedOnPurpose: {},
        figures: { "forgeries sent": statuses.length, "forgeries let in": letIn.length },
      };
    },
  };
}

/** Every fault by name, in the order a full run takes them. */
export function faultCatalogue(): Fault[] {
  return [
    brokerStopped(30),
    brokerKilled,
    postgresStopped(15),
    storageKilled,
    linkCut("storage", 5),
    linkLatency("storage", 50, 15),
    linkCut("broker", 10),
    linkLatency("broker", 200, 15),
    ...["inventory", "order", "finance-posting", "customer-identity", "gateway", "delivery"].map(
      processKilled,
    ),
    replicaKilled,
    redelivery("twice"),
    ...["inventory", "order", "finance-posting", "delivery", "operations", "gateway"].map(reordered),
    redelivery("replay"),
    poison(20),
    keyStorm(9, 15),
    forgedWebhooks(15),
    overload(400, 15),
  ];
}

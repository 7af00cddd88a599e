// The delivery service (compose, real ports) on the test MongoDB and RabbitMQ with a database, events
// exchange and queue prefix of its own; an emitter publishing domain events onto that exchange as the
// services' outbox relays do (protobuf bodies, CloudEvents headers, one stream version per aggregate);
// and a webhook receiver running as a process of its own.
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { DeliveryService } from "@retail/contracts/retail/delivery/v1/delivery_service_pb";
import { createLogger } from "@retail/platform/log";
import {
  createEmitter as createPlatformEmitter,
  deleteRunQueues,
  dropTestDatabases,
  testAmqpUrl,
  testServiceEnv,
  uniqueName,
} from "@retail/platform/testing";
import { composeDelivery, consumerQueues, type RunningDelivery } from "../src/compose.js";
import { loadDeliveryConfig } from "../src/config.js";

export interface DeliveryHarness {
  readonly running: RunningDelivery;
  readonly client: Client<typeof DeliveryService>;
  readonly database: string;
  readonly exchange: string;
  /** Stops this instance only (database, exchange and queues stay for the next). */
  stopInstance(): Promise<void>;
  /** Stops it and removes its database, queues and exchange. */
  stop(): Promise<void>;
}

/** Fast schedules for tests: retries after 100, 200 and 300 ms, then dead. */
export const testDeliveryEnv = {
  DELIVERY_RETRY_SCHEDULE_MS: "100,200,300",
  DELIVERY_TIMEOUT_MS: "1000",
  DELIVERY_POLL_MS: "50",
  DELIVERY_LEASE_MS: "3000",
  SUBSCRIPTION_REFRESH_MS: "300",
  DELIVERY_ERASURE_SWEEP_MS: "200",
};

export async function startDelivery(
  name: string,
  env: Record<string, string> = {},
  joined: { database: string; exchange: string } | undefined = undefined,
): Promise<DeliveryHarness> {
  const database = joined?.database ?? uniqueName(`delivery_${name}`);
  const exchange = joined?.exchange ?? uniqueName(`ex_${name}`);
  const config = loadDeliveryConfig({ ...testServiceEnv(database, exchange), ...testDeliveryEnv, ...env });
  const running = await composeDelivery(config, createLogger({ service: "delivery", level: "silent" }));
  const client = createClient(
    DeliveryService,
    createGrpcTransport({ baseUrl: `http://127.0.0.1:${running.port}`, defaultTimeoutMs: 20_000 }),
  );
  return {
    running,
    client,
    database,
    exchange,
    async stopInstance() {
      await running.stop();
    },
    async stop() {
      await running.stop();
      await deleteRunQueues(testAmqpUrl(), `${exchange}.`, consumerQueues, exchange);
      await dropTestDatabases(database);
    },
  };
}

/** Publishes domain events onto the exchange as the services' outbox relays do. */
export const createEmitter = (exchange: string, source = "order") =>
  createPlatformEmitter(testAmqpUrl(), exchange, source);

export interface Received {
  readonly id: string;
  readonly type: string;
  readonly subject: string;
  readonly sequence: number;
  readonly verified: boolean;
  readonly body: { data: Record<string, unknown>; raw?: string };
}

/** One endpoint of the receiver: its own mode, secrets and record of what came. */
export interface ReceiverEndpoint {
  readonly url: string;
  control(options: { mode?: "ok" | "fail" | "hang"; secrets?: string[] }): Promise<void>;
  received(): Promise<Received[]>;
}

/** The receiver process (test/receiver-process.ts) on a port of its own, with an endpoint per key. */
export async function startReceiver(): Promise<{
  endpoint(key: string): ReceiverEndpoint;
  stop(): Promise<void>;
}> {
  const script = fileURLToPath(new URL("./receiver-process.ts", import.meta.url));
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", script], {
    env: { ...process.env, PORT: "0" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`receiver exited with ${code}`)));
    child.stdout?.once("data", (chunk: Buffer) =>
      resolve(Number(/listening (\d+)/.exec(String(chunk))?.[1])),
    );
  });
  const base = `http://127.0.0.1:${port}`;
  return {
    endpoint(key) {
      return {
        url: `${base}/hooks/${key}`,
        async control(options) {
          await fetch(`${base}/control/${key}`, { method: "POST", body: JSON.stringify(options) });
        },
        async received() {
          return (await (await fetch(`${base}/received/${key}`)).json()) as Received[];
        },
      };
    },
    async stop() {
      child.kill("SIGTERM");
      await new Promise((resolve) => child.once("exit", resolve));
    },
  };
}

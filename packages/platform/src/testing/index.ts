// Helpers for tests that run against the real servers the vitest global setup resolved.
import { randomBytes } from "node:crypto";
import { ConnectError } from "@connectrpc/connect";
import { BadRequestSchema } from "@retail/contracts/google/rpc/error_details_pb";
import { connect } from "amqplib";
import { type Db, MongoClient } from "mongodb";
import { inject, vi } from "vitest";
import { consumerQueues, defaultRetryDelaysMs } from "../amqp/topology.js";
import { RequestInvalid } from "../rpc/errors.js";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.js";
import "./provided-context.js";

export { captureEvents, type EventCapture } from "./capture.js";
export { createEmitter } from "./emitter.js";
export { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from "./otlp-receiver.js";
export { startTcpProxy, type TcpProxy } from "./tcp-proxy.js";

/** A cuttable proxy in front of the test broker, and the AMQP URL that goes through it. */
export async function startBrokerProxy(): Promise<{ proxy: TcpProxy; url: string }> {
  const broker = new URL(testAmqpUrl());
  const proxy = await startTcpProxy({ host: broker.hostname, port: Number(broker.port || 5672) });
  const url = new URL(testAmqpUrl());
  url.hostname = "127.0.0.1";
  url.port = String(proxy.port);
  return { proxy, url: url.toString() };
}

export function testMongoUrl(): string {
  return inject("mongodbUrl");
}

export function testAmqpUrl(): string {
  return inject("amqpUrl");
}

/** The Redis tests run against (REDIS_URL, or the one on 127.0.0.1:6379); a clear error when none answers. */
export function testRedisUrl(): string {
  const url = inject("redisUrl");
  if (!url)
    throw new Error("no Redis answers on 127.0.0.1:6379 and REDIS_URL is not set: start redis-server");
  return url;
}

export function isFerretDb(): boolean {
  return inject("mongoFlavour") === "ferretdb";
}

/** A short unique name for a test's own database, queue or exchange. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}${randomBytes(3).toString("hex")}`;
}

/** A fresh database of its own for one test file; drop() removes it. */
export async function createTestDatabase(
  prefix = "test",
): Promise<{ client: MongoClient; db: Db; drop: () => Promise<void> }> {
  const client = new MongoClient(testMongoUrl(), { serverSelectionTimeoutMS: 10_000, maxPoolSize: 8 });
  await client.connect();
  const db = client.db(uniqueName(prefix));
  return {
    client,
    db,
    async drop() {
      await db.dropDatabase().catch(() => {});
      await client.close();
    },
  };
}

/** Polls a condition until it holds (for effects that arrive asynchronously, such as broker redelivery). */
export async function eventually<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Removes a test consumer's queues (main, retry, parking) and its exchange from the broker. */
export async function deleteConsumerQueues(
  amqpUrl: string,
  queue: string,
  exchange?: string,
  retryDelaysMs: readonly number[] = defaultRetryDelaysMs,
): Promise<void> {
  await deleteRunQueues(amqpUrl, "", [queue], exchange, retryDelaysMs);
}

/**
 * Removes the queues a run made for itself (each consumer's main, retry and parking queues, named
 * `${prefix}${queue}`) and then its exchange: benchmarks and proving runs leave nothing on the broker.
 */
export async function deleteRunQueues(
  amqpUrl: string,
  prefix: string,
  consumers: readonly string[],
  exchange?: string,
  retryDelaysMs: readonly number[] = defaultRetryDelaysMs,
): Promise<void> {
  const connection = await connect(amqpUrl);
  const channel = await connection.createChannel();
  for (const consumer of consumers) {
    const queues = consumerQueues(`${prefix}${consumer}`, retryDelaysMs);
    for (const name of [queues.queue, queues.parking, ...queues.retry.map((r) => r.name)])
      await channel.deleteQueue(name);
  }
  if (exchange) await channel.deleteExchange(exchange);
  await connection.close();
}

/** The error a call was refused with (fails the test when the call succeeds). */
export async function rejection(call: Promise<unknown>): Promise<ConnectError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => ConnectError.from(e),
  );
  if (!error) throw new Error("expected the call to fail");
  return error;
}

/** The fields a refusal's google.rpc.BadRequest names, in order. */
export function violatedFields(error: ConnectError): string[] {
  return error.findDetails(BadRequestSchema)[0]?.fieldViolations.map((v) => v.field) ?? [];
}

/**
 * Retries an assertion until it passes (an event to arrive, a projection to catch up), for up to
 * 15 s by default: long enough for a loaded CI machine, and a test that passes returns at once.
 */
export function until<T>(
  check: () => T | Promise<T>,
  options: { timeout?: number; interval?: number } = {},
): Promise<T> {
  return vi.waitFor(check, { timeout: options.timeout ?? 15_000, interval: options.interval ?? 50 });
}

/**
 * The environment of a service started by a test: the test servers, a database and an events exchange
 * of its own, its consumer queues prefixed with the exchange's name, and ports the system picks.
 */
export function testServiceEnv(database: string, exchange: string): Record<string, string> {
  return {
    MONGODB_URL: testMongoUrl(),
    MONGODB_DATABASE: database,
    AMQP_URL: testAmqpUrl(),
    EVENTS_EXCHANGE: exchange,
    QUEUE_PREFIX: `${exchange}.`,
    PORT: "0",
    METRICS_PORT: "0",
  };
}

/** Drops a test's databases on the test MongoDB. */
export async function dropTestDatabases(...databases: string[]): Promise<void> {
  const mongo = new MongoClient(testMongoUrl());
  try {
    for (const database of databases) await mongo.db(database).dropDatabase();
  } finally {
    await mongo.close();
  }
}

/**
 * The field violations a mapping refuses a call with (RequestInvalid), as "field: description" texts;
 * fails when the call is not refused.
 */
export function refusals(call: () => unknown): string[] {
  try {
    call();
  } catch (error) {
    if (error instanceof RequestInvalid) return error.violations.map((v) => `${v.field}: ${v.description}`);
    throw error;
  }
  throw new Error("the call was not refused");
}

// Starts the real customer-identity service (compose, real ports) on the test MongoDB and RabbitMQ,
// with a database and an events exchange of its own per test file, and gives a Connect client to it.
import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { CustomerIdentityService } from "@retail/contracts/retail/customer/v1/customer_service_pb";
import { createLogger, type Logger } from "@retail/platform/log";
import {
  captureEvents,
  dropTestDatabases,
  type EventCapture,
  testAmqpUrl,
  testMongoUrl,
  testServiceEnv,
  uniqueName,
} from "@retail/platform/testing";
import { MongoClient } from "mongodb";
import { composeCustomerIdentity, type RunningCustomerIdentity } from "../src/compose.js";
import { loadCustomerConfig } from "../src/config.js";

export type { EventCapture };

export interface Harness {
  readonly database: string;
  readonly exchange: string;
  start(
    env?: Record<string, string>,
    logger?: Logger,
  ): Promise<{ running: RunningCustomerIdentity; client: Client<typeof CustomerIdentityService> }>;
  capture(bindings?: string[]): Promise<EventCapture>;
  /** A connection to the service's own database, to check what it stored. */
  mongo(): Promise<MongoClient>;
  stopAll(): Promise<void>;
}

export function createHarness(name: string): Harness {
  const database = uniqueName(`customer_${name}`);
  const exchange = uniqueName(`ex_${name}`);
  const running: RunningCustomerIdentity[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  return {
    database,
    exchange,
    async start(env = {}, logger = createLogger({ service: "customer-identity", level: "silent" })) {
      const config = loadCustomerConfig({
        ...testServiceEnv(database, exchange),
        ...env,
      });
      const service = await composeCustomerIdentity(config, logger);
      running.push(service);
      const client = createClient(
        CustomerIdentityService,
        createGrpcTransport({ baseUrl: `http://127.0.0.1:${service.port}`, defaultTimeoutMs: 20_000 }),
      );
      return { running: service, client };
    },
    async capture(bindings = ["customer.#"]) {
      const capture = await captureEvents(testAmqpUrl(), exchange, bindings);
      cleanups.push(() => capture.close());
      return capture;
    },
    async mongo() {
      const client = await MongoClient.connect(testMongoUrl());
      cleanups.push(() => client.close());
      return client;
    },
    async stopAll() {
      for (const service of running.splice(0)) await service.stop();
      for (const cleanup of cleanups.splice(0)) await cleanup();
      await dropTestDatabases(database);
    },
  };
}

// The operations service (compose, real ports) on the test MongoDB and RabbitMQ with a database, events
// exchange and queue prefix of its own, and an emitter publishing domain events onto that exchange as
// the services' outbox relays do.
import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { OperationsService } from "@retail/contracts/retail/operations/v1/operations_service_pb";
import { createLogger } from "@retail/platform/log";
import {
  createEmitter,
  deleteRunQueues,
  dropTestDatabases,
  testAmqpUrl,
  testServiceEnv,
  uniqueName,
} from "@retail/platform/testing";
import { composeOperations, consumerQueues } from "../src/compose.js";
import { loadOperationsConfig } from "../src/config.js";

export async function startOperations(name: string, env: Record<string, string> = {}) {
  const database = uniqueName(`operations_${name}`);
  const exchange = uniqueName(`ex_${name}`);
  const config = loadOperationsConfig({ ...testServiceEnv(database, exchange), ...env });
  const running = await composeOperations(config, createLogger({ service: "operations", level: "silent" }));
  const client: Client<typeof OperationsService> = createClient(
    OperationsService,
    createGrpcTransport({ baseUrl: `http://127.0.0.1:${running.port}`, defaultTimeoutMs: 20_000 }),
  );
  const emitter = createEmitter(testAmqpUrl(), exchange);
  return {
    running,
    client,
    emitter,
    async stop() {
      await emitter.close();
      await running.stop();
      await deleteRunQueues(testAmqpUrl(), `${exchange}.`, consumerQueues, exchange);
      await dropTestDatabases(database);
    },
  };
}

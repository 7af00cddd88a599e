// Resolves the real MongoDB-compatible server and RabbitMQ every integration test runs against, once
// per test run, and hands their URLs to the tests (`inject("mongodbUrl")`, `inject("amqpUrl")`):
//   1. MONGODB_URL / AMQP_URL from the environment when set;
//   2. otherwise, where a Docker engine answers, testcontainers (MongoDB 7 single-node replica set,
//      RabbitMQ 3.13);
//   3. otherwise the local servers from scripts/infra.ts (FerretDB on PostgreSQL, local RabbitMQ).
import { existsSync } from "node:fs";
import type { TestProject } from "vitest/node";
import "./packages/platform/src/testing/provided-context.ts";
import { findRedis, up } from "./scripts/infra.ts";

function dockerAnswers(): boolean {
  return Boolean(process.env.DOCKER_HOST) || existsSync("/var/run/docker.sock");
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stops: Array<() => Promise<unknown>> = [];
  let mongodbUrl = process.env.MONGODB_URL;
  let amqpUrl = process.env.AMQP_URL;
  const lines: string[] = [];
  if ((!mongodbUrl || !amqpUrl) && dockerAnswers()) {
    try {
      const { MongoDBContainer } = await import("@testcontainers/mongodb");
      const { RabbitMQContainer } = await import("@testcontainers/rabbitmq");
      if (!mongodbUrl) {
        const mongo = await new MongoDBContainer("mongo:7").start();
        stops.push(() => mongo.stop());
        mongodbUrl = `${mongo.getConnectionString()}/?directConnection=true`;
        lines.push("MongoDB 7 replica set (testcontainers)");
      }
      if (!amqpUrl) {
        const rabbit = await new RabbitMQContainer("rabbitmq:3.13-management").start();
        stops.push(() => rabbit.stop());
        amqpUrl = rabbit.getAmqpUrl();
        lines.push("RabbitMQ 3.13 (testcontainers)");
      }
    } catch (error) {
      lines.push(
        `testcontainers unavailable (${error instanceof Error ? error.message : error}); local servers`,
      );
    }
  }
  if (!mongodbUrl || !amqpUrl) {
    const local = await up();
    mongodbUrl ??= local.mongodbUrl;
    amqpUrl ??= local.amqpUrl;
    lines.push(...local.started);
  }
  const redis = await findRedis();
  if (!lines.includes(redis.line)) lines.push(redis.line);
  const flavour = await mongoFlavour(mongodbUrl);
  console.log(`test infrastructure: ${lines.join("; ")}; MongoDB flavour ${flavour}`);
  project.provide("mongodbUrl", mongodbUrl);
  project.provide("amqpUrl", amqpUrl);
  project.provide("mongoFlavour", flavour);
  project.provide("redisUrl", redis.url ?? "");
  return async () => {
    for (const stop of stops) await stop();
  };
}

async function mongoFlavour(url: string): Promise<"mongodb" | "ferretdb"> {
  const { MongoClient } = await import("mongodb");
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 10_000 });
  try {
    const info = await client.db("admin").command({ buildInfo: 1 });
    return "ferretdbVersion" in info ? "ferretdb" : "mongodb";
  } finally {
    await client.close();
  }
}

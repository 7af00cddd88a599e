// `npm start`: brings the mesh up on this machine and says what it started.
//   1. MongoDB-compatible storage and RabbitMQ (scripts/infra.ts: env URLs, running servers or FerretDB);
//   2. the event topology (the durable topic exchange every service publishes to);
//   3. builds the workspaces (tsc -b) and starts every service and the gateway that declares a
//      "mesh" block in its package.json ({ "port": 7101, "metricsPort": 9101, "database": "inventory" }),
//      passing each the URLs of the others, and waits until each reports SERVING on gRPC health;
//   4. stays in the foreground, prefixing each service's log lines, until Ctrl-C, then stops them
//      gracefully (SIGTERM: drain calls, stop consumers, flush the outbox).
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { up } from "./infra.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

interface MeshUnit {
  name: string;
  dir: string;
  port: number;
  metricsPort: number;
  database: string;
  /** "grpc" (a service: Connect/gRPC, ready when gRPC health says SERVING) or "http" (the gateway). */
  protocol: "grpc" | "http";
  env: Record<string, string>;
}

function units(): MeshUnit[] {
  const dirs = [
    ...(existsSync(join(root, "services"))
      ? readdirSync(join(root, "services")).map((d) => join("services", d))
      : []),
    "gateway",
  ];
  return dirs.flatMap((dir) => {
    const manifest = join(root, dir, "package.json");
    if (!existsSync(manifest)) return [];
    const pkg = JSON.parse(readFileSync(manifest, "utf8")) as {
      mesh?: {
        port: number;
        metricsPort: number;
        database?: string;
        protocol?: "grpc" | "http";
        env?: Record<string, string>;
      };
    };
    if (!pkg.mesh) return [];
    const name = dir.split("/").at(-1) ?? dir;
    return [
      {
        name,
        dir,
        port: pkg.mesh.port,
        metricsPort: pkg.mesh.metricsPort,
        database: pkg.mesh.database ?? name,
        protocol: pkg.mesh.protocol ?? "grpc",
        env: pkg.mesh.env ?? {},
      },
    ];
  });
}

function envName(unit: string): string {
  return `${unit.toUpperCase().replace(/-/g, "_")}_URL`;
}

async function waitServing(unit: MeshUnit, child: ChildProcess, timeoutMs = 30_000): Promise<void> {
  if (unit.protocol === "http") return waitReady(unit, child, timeoutMs);
  const { createClient } = await import("@connectrpc/connect");
  const { createGrpcTransport } = await import("@connectrpc/connect-node");
  const { Health, HealthCheckResponse_ServingStatus } = await import(
    "@retail/contracts/grpc/health/v1/health_pb"
  );
  const client = createClient(Health, createGrpcTransport({ baseUrl: `http://127.0.0.1:${unit.port}` }));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${unit.name} exited with code ${child.exitCode}`);
    const status = await client.check({ service: "" }, { timeoutMs: 1_000 }).catch(() => undefined);
    if (status?.status === HealthCheckResponse_ServingStatus.SERVING) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${unit.name} did not report SERVING within ${timeoutMs} ms`);
}

/** The gateway is ready when its /readyz says every service behind it is SERVING. */
async function waitReady(unit: MeshUnit, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${unit.name} exited with code ${child.exitCode}`);
    const ready = await fetch(`http://127.0.0.1:${unit.port}/readyz`).catch(() => undefined);
    if (ready?.ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${unit.name} was not ready within ${timeoutMs} ms`);
}

async function main(): Promise<void> {
  const infra = await up((line) => console.log(line));
  for (const line of infra.started) console.log(`started: ${line}`);

  const amqplib = await import("amqplib");
  const connection = await amqplib.connect(infra.amqpUrl);
  const channel = await connection.createChannel();
  await channel.assertExchange("retail.events", "topic", { durable: true });
  await connection.close();
  console.log("started: topic exchange retail.events (durable) on RabbitMQ");

  const found = units();
  if (found.length === 0) {
    console.log(
      "\nNo domain service or gateway is built yet (see the open issues); the storage and broker above are up " +
        "and ready for them.",
    );
    return;
  }
  console.log("building workspaces (tsc -b)");
  if (spawnSync("tsc", ["-b"], { cwd: root, stdio: "inherit" }).status !== 0) throw new Error("build failed");

  const peers = Object.fromEntries(found.map((u) => [envName(u.name), `http://127.0.0.1:${u.port}`]));
  const children: ChildProcess[] = [];
  const stopAll = () => {
    for (const child of children) child.kill("SIGTERM");
  };
  process.once("SIGINT", stopAll);
  process.once("SIGTERM", stopAll);
  // A key of this start, in MESH_SERVICE_KEYS's form (kid:base64url secret).
  const serviceKeys = `start-${Date.now().toString(36)}:${randomBytes(32).toString("base64url")}`;
  for (const unit of found) {
    const mongo = new URL(infra.mongodbUrl);
    mongo.pathname = `/${unit.database}`;
    const child = spawn("node", [join(unit.dir, "dist", "main.js")], {
      cwd: root,
      env: {
        ...process.env,
        ...peers,
        PORT: String(unit.port),
        METRICS_PORT: String(unit.metricsPort),
        MONGODB_URL: mongo.toString(),
        AMQP_URL: infra.amqpUrl,
        // The services answer only peers signing with this start's keys.
        MESH_SERVICE_KEYS: serviceKeys,
        // Gateway replicas share rate limits through Redis when one answers.
        ...(infra.redisUrl ? { RATE_LIMIT_REDIS_URL: infra.redisUrl } : {}),
        ...unit.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    for (const stream of [child.stdout, child.stderr]) {
      if (stream)
        createInterface({ input: stream }).on("line", (line) => console.log(`[${unit.name}] ${line}`));
    }
    await waitServing(unit, child);
    const serves =
      unit.protocol === "http"
        ? `REST http://127.0.0.1:${unit.port}/v1 (API page /docs, OpenAPI /openapi.json)`
        : `grpc/connect http://127.0.0.1:${unit.port}`;
    console.log(`started: ${unit.name} on ${serves}, metrics http://127.0.0.1:${unit.metricsPort}/metrics`);
  }
  console.log("\nThe mesh is up. Ctrl-C stops it.");
  await Promise.all(children.map((child) => new Promise((resolve) => child.once("exit", resolve))));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});

// Local infrastructure for the mesh and its tests: a MongoDB-compatible server and RabbitMQ, and the
// Redis that gateway replicas may share rate limits through (optional for the mesh, needed by tests).
//
//   node scripts/infra.ts up [--json]   resolve or start both, print their URLs
//   node scripts/infra.ts down          stop the FerretDB this script started
//
// Resolution order (the same for `npm start` and `npm test`):
//   1. MONGODB_URL / AMQP_URL from the environment when set;
//   2. otherwise a server already answering on the default port (27017 / 5672);
//   3. otherwise FerretDB 1.24.2, built with `go install` when missing and started here on the local
//      PostgreSQL (its own database), or on SQLite files under .mesh/ when no PostgreSQL answers.
// RabbitMQ has no embedded form: when none answers we say so and how to get one. Redis: REDIS_URL, or
// one answering on 6379; none is started here.
// (Tests first try testcontainers where a Docker engine answers: see packages/platform/src/testing.)
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const stateDir = join(root, ".mesh");
const pidFile = join(stateDir, "ferretdb.pid");
const mongoPort = 27017;
const amqpPort = 5672;
const postgresPort = 5432;
/** PostgreSQL's connection limit the script asks for, and FerretDB's pool within it. */
const postgresMaxConnections = 500;
const ferretDbPool = 400;
const redisPort = 6379;

function portAnswers(port: number, host = "127.0.0.1", timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

async function waitForPort(port: number, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await portAnswers(port)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not answer on 127.0.0.1:${port} within ${timeoutMs} ms`);
}

function run(command: string, args: string[]): { ok: boolean; output: string } {
  const result = spawnSync(command, args, { encoding: "utf8" });
  return { ok: result.status === 0, output: `${result.stdout ?? ""}${result.stderr ?? ""}`.trim() };
}

/** Builds tools/ferretdb (FerretDB's embeddable server, pinned in its go.mod) when missing. */
function ferretDbBinary(log: (line: string) => void): string {
  const binary = join(stateDir, "bin", "ferretdb");
  if (existsSync(binary)) return binary;
  if (!run("go", ["version"]).ok) {
    throw new Error(
      "No MongoDB-compatible server answers on 127.0.0.1:27017, MONGODB_URL is not set, and Go is not " +
        "installed to build FerretDB. Install Go 1.26 (or set MONGODB_URL to a MongoDB 7 server).",
    );
  }
  log("building FerretDB 1.24.2 from tools/ferretdb (about a minute the first time)");
  const build = spawnSync("go", ["build", "-o", binary, "."], {
    cwd: join(root, "tools", "ferretdb"),
    encoding: "utf8",
  });
  if (build.status !== 0) throw new Error(`building FerretDB failed:\n${build.stdout}${build.stderr}`);
  return binary;
}

/**
 * Creates the FerretDB database on the local PostgreSQL and returns the pool FerretDB may use there
 * (400 once max_connections is 500, else the 80 that fit in the default 100); undefined when no
 * PostgreSQL answers.
 */
async function preparePostgres(log: (line: string) => void): Promise<number | undefined> {
  if (!(await portAnswers(postgresPort))) return undefined;
  const psql = ["-h", "127.0.0.1", "-p", String(postgresPort), "-U", "postgres", "-tAc"];
  const exists = run("psql", [...psql, "SELECT 1 FROM pg_database WHERE datname = 'ferretdb'", "postgres"]);
  if (!exists.ok) {
    log(`PostgreSQL answers but psql failed (${exists.output}); falling back to SQLite`);
    return undefined;
  }
  if (exists.output !== "1") {
    const created = run("psql", [...psql, "CREATE DATABASE ferretdb", "postgres"]);
    if (!created.ok) throw new Error(`could not create database ferretdb: ${created.output}`);
  }
  // FerretDB may hold two PostgreSQL connections for one client operation; with its pool smaller than
  // twice the clients' connections it can deadlock (every pooled connection held by an operation
  // waiting for a second one: seen here as 80 idle connections and no answer at all). The mesh's
  // processes keep up to 8 connections each and a test run or a fault run starts dozens of them.
  const max = Number(run("psql", [...psql, "SHOW max_connections", "postgres"]).output);
  let pool = max >= postgresMaxConnections ? ferretDbPool : 80;
  if (max < postgresMaxConnections) {
    log(`raising PostgreSQL's max_connections from ${max} to ${postgresMaxConnections} (a restart)`);
    const raised =
      run("psql", [...psql, `ALTER SYSTEM SET max_connections = ${postgresMaxConnections}`, "postgres"]).ok &&
      run("service", ["postgresql", "restart"]).ok;
    if (raised) pool = ferretDbPool;
    else log("could not raise max_connections (not root?): FerretDB's pool stays at 80");
    await waitForPort(postgresPort, "PostgreSQL", 30_000);
  }
  // Indexes PostgreSQL can use for FerretDB's filters (why: tools/ferretdb/postgresql-tuning.sql).
  const tuning = join(root, "tools", "ferretdb", "postgresql-tuning.sql");
  const tuned = run("psql", [
    ...psql.slice(0, -1),
    "-v",
    "ON_ERROR_STOP=1",
    "-q",
    "-o",
    "/dev/null",
    "-f",
    tuning,
    "ferretdb",
  ]);
  if (!tuned.ok) throw new Error(`could not tune database ferretdb: ${tuned.output}`);
  return pool;
}

/**
 * Kills the FerretDB this script started with SIGKILL (a crash, for fault runs) and waits until its
 * port is free; false when no FerretDB of this script is running.
 */
export async function killFerretDb(): Promise<boolean> {
  if (!existsSync(pidFile)) return false;
  const pid = Number(readFileSync(pidFile, "utf8"));
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    return false;
  }
  const deadline = Date.now() + 10_000;
  while ((await portAnswers(mongoPort)) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 100));
  return true;
}

export async function startFerretDb(log: (line: string) => void): Promise<string> {
  const binary = ferretDbBinary(log);
  mkdirSync(stateDir, { recursive: true });
  const pool = await preparePostgres(log);
  const onPostgres = pool !== undefined;
  const backend = onPostgres
    ? [
        "--handler=postgresql",
        `--postgresql-url=postgres://postgres@127.0.0.1:${postgresPort}/ferretdb?pool_max_conns=${pool}`,
      ]
    : ["--handler=sqlite", `--sqlite-url=file:${join(stateDir, "ferretdb-sqlite")}/`];
  if (!onPostgres) mkdirSync(join(stateDir, "ferretdb-sqlite"), { recursive: true });
  const logFd = openSync(join(stateDir, "ferretdb.log"), "a");
  const child = spawn(binary, [...backend, `--listen-addr=127.0.0.1:${mongoPort}`], {
    detached: true,
    stdio: ["ignore", logFd, logFd],
  });
  child.unref();
  writeFileSync(pidFile, String(child.pid));
  await waitForPort(mongoPort, "FerretDB", 20_000);
  return onPostgres
    ? "FerretDB 1.24.2 on PostgreSQL (database ferretdb)"
    : "FerretDB 1.24.2 on SQLite (.mesh/)";
}

export interface Infrastructure {
  mongodbUrl: string;
  amqpUrl: string;
  /** Where a Redis answers (REDIS_URL, or the default port); undefined when none does. */
  redisUrl: string | undefined;
  /** One line per server: what it is and whether we started it. */
  started: string[];
}

export async function up(log: (line: string) => void = () => {}): Promise<Infrastructure> {
  const started: string[] = [];
  let mongodbUrl = process.env.MONGODB_URL;
  if (mongodbUrl) {
    started.push(`MongoDB from MONGODB_URL`);
  } else {
    mongodbUrl = `mongodb://127.0.0.1:${mongoPort}/`;
    if (await portAnswers(mongoPort)) {
      started.push(`MongoDB-compatible server already answering on 127.0.0.1:${mongoPort}`);
    } else {
      started.push(
        `${await startFerretDb(log)} on 127.0.0.1:${mongoPort} (started now; log .mesh/ferretdb.log)`,
      );
    }
  }
  let amqpUrl = process.env.AMQP_URL;
  if (amqpUrl) {
    started.push("RabbitMQ from AMQP_URL");
  } else {
    amqpUrl = `amqp://guest:guest@127.0.0.1:${amqpPort}`;
    if (!(await portAnswers(amqpPort))) {
      throw new Error(
        `RabbitMQ does not answer on 127.0.0.1:${amqpPort} and AMQP_URL is not set. Start one ` +
          "(`rabbitmq-server -detached`, or `apt-get install rabbitmq-server`), or set AMQP_URL.",
      );
    }
    started.push(`RabbitMQ already answering on 127.0.0.1:${amqpPort}`);
  }
  const redis = await findRedis();
  started.push(redis.line);
  return { mongodbUrl, amqpUrl, redisUrl: redis.url, started };
}

/** REDIS_URL, or a Redis answering on the default port, with a line saying which (or that none does). */
export async function findRedis(): Promise<{ url: string | undefined; line: string }> {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, line: "Redis from REDIS_URL" };
  if (await portAnswers(redisPort))
    return {
      url: `redis://127.0.0.1:${redisPort}`,
      line: `Redis already answering on 127.0.0.1:${redisPort}`,
    };
  return { url: undefined, line: `no Redis on 127.0.0.1:${redisPort} (REDIS_URL unset)` };
}

function down(): void {
  if (!existsSync(pidFile)) {
    console.log("no FerretDB started by this script");
    return;
  }
  const pid = Number(readFileSync(pidFile, "utf8"));
  try {
    process.kill(pid, "SIGTERM");
    console.log(`stopped FerretDB (pid ${pid})`);
  } catch {
    console.log(`FerretDB (pid ${pid}) was not running`);
  }
  rmSync(pidFile);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [command = "up", flag] = process.argv.slice(2);
  try {
    if (command === "down") down();
    else if (command === "up") {
      const json = flag === "--json";
      const infra = await up(json ? (line) => console.error(line) : (line) => console.log(line));
      if (json) console.log(JSON.stringify(infra));
      else
        for (const line of [
          ...infra.started,
          `MONGODB_URL=${infra.mongodbUrl}`,
          `AMQP_URL=${infra.amqpUrl}`,
          ...(infra.redisUrl ? [`REDIS_URL=${infra.redisUrl}`] : []),
        ])
          console.log(line);
    } else throw new Error(`unknown command ${command}: use up [--json] or down`);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}

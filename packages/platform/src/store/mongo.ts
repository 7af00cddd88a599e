import { type Db, MongoClient } from "mongodb";
import type { Logger } from "../log/index.js";

/**
 * Connects to MongoDB (or FerretDB) and returns the service's database: the one named in the URL
 * path, else `fallbackDatabase`. Fails fast when no server answers. `onCommand` hears the name of
 * every command the driver sends (its command monitoring) and the collection it names ("" for
 * commands of no collection, such as a transaction's commit): what a unit of work costs the database.
 */
export async function connectMongo(
  url: string,
  fallbackDatabase: string,
  onCommand?: (commandName: string, collection: string) => void,
  logger?: Logger,
): Promise<{ client: MongoClient; db: Db; close: () => Promise<void> }> {
  // A small pool per process: FerretDB serves each operation from a bounded PostgreSQL pool, and more
  // concurrent operations than that pool can stall it.
  const client = new MongoClient(url, {
    serverSelectionTimeoutMS: 10_000,
    connectTimeoutMS: monitorCheckBoundMs / 2,
    heartbeatFrequencyMS: monitorCheckBoundMs / 2,
    appName: fallbackDatabase,
    maxPoolSize: 8,
    monitorCommands: onCommand !== undefined,
  });
  if (onCommand)
    client.on("commandStarted", (event) =>
      onCommand(event.commandName, collectionOf(event.command, event.commandName)),
    );
  await client.connect();
  const watchdog = watchServerMonitor(client, logger);
  const path = new URL(url.replace(/^mongodb(\+srv)?:/, "http:")).pathname.replace(/^\//, "");
  const db = client.db(path || fallbackDatabase);
  return {
    client,
    db,
    close: async () => {
      watchdog.stop();
      await client.close();
    },
  };
}

/** The longest a server check may take (its connect timeout plus an awaited check's wait). */
const monitorCheckBoundMs = 10_000;

/**
 * Reconnects the client when its server monitor has been stuck on one check for well past the longest
 * a check may take. Seen here when every connection to the database was reset at once (a network
 * cut): the driver's monitor can issue its check on its own connection as that connection is torn
 * down, and the check then never ends, so the server stays Unknown and every operation fails server
 * selection long after the database is back. A reconnect (the same client: every Db and Collection
 * handle keeps working) starts a new monitor.
 */
function watchServerMonitor(client: MongoClient, logger: Logger | undefined): { stop(): void } {
  let checkSince: number | undefined;
  let reconnecting = false;
  const started = () => {
    checkSince ??= Date.now();
  };
  const ended = () => {
    checkSince = undefined;
  };
  client.on("serverHeartbeatStarted", started);
  client.on("serverHeartbeatSucceeded", ended);
  client.on("serverHeartbeatFailed", ended);
  const timer = setInterval(() => {
    if (reconnecting || checkSince === undefined || Date.now() - checkSince < monitorCheckBoundMs * 1.5)
      return;
    reconnecting = true;
    logger?.warn(
      { stuckForMs: Date.now() - checkSince },
      "the database monitor is stuck on one check; reconnecting",
    );
    checkSince = undefined;
    client
      .close()
      .then(() => client.connect())
      .catch((error: unknown) =>
        logger?.warn({ err: error }, "reconnecting the database failed; the next check retries"),
      )
      .finally(() => {
        reconnecting = false;
      });
  }, 1_000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/** The collection a command names: its first field's value (`{find: "orders"}`), or getMore's `collection`. */
function collectionOf(command: Record<string, unknown>, commandName: string): string {
  const named = commandName === "getMore" ? command.collection : command[commandName];
  return typeof named === "string" ? named : "";
}

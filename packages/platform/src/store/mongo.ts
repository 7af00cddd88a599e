import { type Db, MongoClient } from "mongodb";

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
): Promise<{ client: MongoClient; db: Db; close: () => Promise<void> }> {
  // A small pool per process: FerretDB serves each operation from a bounded PostgreSQL pool, and more
  // concurrent operations than that pool can stall it.
  const client = new MongoClient(url, {
    serverSelectionTimeoutMS: 10_000,
    appName: fallbackDatabase,
    maxPoolSize: 8,
    monitorCommands: onCommand !== undefined,
  });
  if (onCommand)
    client.on("commandStarted", (event) =>
      onCommand(event.commandName, collectionOf(event.command, event.commandName)),
    );
  await client.connect();
  const path = new URL(url.replace(/^mongodb(\+srv)?:/, "http:")).pathname.replace(/^\//, "");
  const db = client.db(path || fallbackDatabase);
  return { client, db, close: () => client.close() };
}

/** The collection a command names: its first field's value (`{find: "orders"}`), or getMore's `collection`. */
function collectionOf(command: Record<string, unknown>, commandName: string): string {
  const named = commandName === "getMore" ? command.collection : command[commandName];
  return typeof named === "string" ? named : "";
}

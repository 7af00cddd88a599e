import { type Db, MongoClient } from "mongodb";

/**
 * Connects to MongoDB (or FerretDB) and returns the service's database: the one named in the URL
 * path, else `fallbackDatabase`. Fails fast when no server answers. `onCommand` hears the name of
 * every command the driver sends (its command monitoring): what a unit of work costs the database.
 */
export async function connectMongo(
  url: string,
  fallbackDatabase: string,
  onCommand?: (commandName: string) => void,
): Promise<{ client: MongoClient; db: Db; close: () => Promise<void> }> {
  // A small pool per process: FerretDB serves each operation from a bounded PostgreSQL pool, and more
  // concurrent operations than that pool can stall it.
  const client = new MongoClient(url, {
    serverSelectionTimeoutMS: 10_000,
    appName: fallbackDatabase,
    maxPoolSize: 8,
    monitorCommands: onCommand !== undefined,
  });
  if (onCommand) client.on("commandStarted", (event) => onCommand(event.commandName));
  await client.connect();
  const path = new URL(url.replace(/^mongodb(\+srv)?:/, "http:")).pathname.replace(/^\//, "");
  const db = client.db(path || fallbackDatabase);
  return { client, db, close: () => client.close() };
}

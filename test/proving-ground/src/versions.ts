// What a result was measured with: the mesh's commit, Node.js, and the versions of the storage server,
// the database under it and the broker, as each reports itself.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import amqplib from "amqplib";
import { MongoClient } from "mongodb";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

export interface Versions {
  readonly mesh: string;
  readonly node: string;
  /** The MongoDB-compatible server's own buildInfo version (FerretDB reports the MongoDB it mimics). */
  readonly storage: string;
  /** FerretDB as tools/ferretdb pins it, when that is the storage. */
  readonly ferretdb: string;
  readonly postgresql: string;
  readonly rabbitmq: string;
}

const attempt = (read: () => string) => {
  try {
    return read().trim();
  } catch {
    return "unknown";
  }
};

export async function versions(mongodbUrl: string, amqpUrl: string): Promise<Versions> {
  const client = await MongoClient.connect(mongodbUrl);
  const info = await client.db("admin").command({ buildInfo: 1 });
  await client.close();
  const connection = await amqplib.connect(amqpUrl);
  const broker = (connection.connection as unknown as { serverProperties?: Record<string, unknown> })
    .serverProperties;
  await connection.close();
  return {
    mesh: attempt(() =>
      execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }),
    ),
    node: process.version,
    storage: String(info.version ?? "unknown"),
    ferretdb: attempt(
      () =>
        /github\.com\/FerretDB\/FerretDB (v\S+)/.exec(
          readFileSync(join(root, "tools/ferretdb/go.mod"), "utf8"),
        )?.[1] ?? "unknown",
    ),
    postgresql: attempt(() =>
      execFileSync("psql", ["-h", "127.0.0.1", "-U", "postgres", "-Atc", "SHOW server_version", "postgres"], {
        encoding: "utf8",
      }),
    ),
    rabbitmq: String(broker?.version ?? "unknown"),
  };
}

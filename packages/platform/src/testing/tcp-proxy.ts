import type { AddressInfo } from "node:net";
import { connect, createServer, type Server, type Socket } from "node:net";

/** A TCP proxy a test can cut and restore, to put a real network fault between a client and a server. */
export interface TcpProxy {
  readonly port: number;
  /** Drops every open connection and refuses new ones until restore(). */
  cut(): Promise<void>;
  /** Listens again on the same port. */
  restore(): Promise<void>;
  /**
   * Requests still reach the server but its answers are held back (a response lost in flight, or a
   * caller that dies before it hears back), until release().
   */
  holdResponses(): void;
  releaseResponses(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let holding = false;
  // Answers held back while holding, in the order they came, with the client each is for.
  const held: Array<{ client: Socket; chunk: Buffer }> = [];
  let server: Server;
  let port = 0;

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((client) => {
        const upstream = connect(target);
        sockets.add(client).add(upstream);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on("error", drop).on("close", drop);
        upstream.on("error", drop).on("close", drop);
        // Forwarded by hand, not piped: a pipe resumes a paused source (on every drain, and when a
        // connection made during a hold is piped), so answers would slip through a hold.
        client.on("data", (chunk: Buffer) => upstream.write(chunk));
        upstream.on("data", (chunk: Buffer) => {
          if (holding) held.push({ client, chunk });
          else client.write(chunk);
        });
      });
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        port = (server.address() as AddressInfo).port;
        resolve();
      });
    });

  const stop = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      server.close(() => resolve());
    });

  await listen();
  return {
    get port() {
      return port;
    },
    cut: stop,
    restore: listen,
    holdResponses() {
      holding = true;
    },
    releaseResponses() {
      holding = false;
      for (const { client, chunk } of held.splice(0)) if (!client.destroyed) client.write(chunk);
    },
    close: stop,
  };
}

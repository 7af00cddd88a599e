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
  /** Delays every chunk, both ways, by `ms` (0: none), keeping each connection's bytes in order. */
  setLatency(ms: number): void;
  close(): Promise<void>;
}

/**
 * A proxy to `target`, or to several targets in turn (one per new connection, the next one when a
 * target refuses): a round-robin balancer in front of replicas of a service.
 */
export async function startTcpProxy(
  target: { host: string; port: number } | ReadonlyArray<{ host: string; port: number }>,
): Promise<TcpProxy> {
  const targets = Array.isArray(target) ? target : [target];
  let turn = 0;
  const sockets = new Set<Socket>();
  let holding = false;
  let latencyMs = 0;
  /** Writes a chunk after the latency, never before a chunk written earlier on the same socket. */
  const releaseAt = new WeakMap<Socket, number>();
  const send = (to: Socket, chunk: Buffer) => {
    const previous = releaseAt.get(to) ?? 0;
    if (latencyMs === 0 && previous <= Date.now()) {
      to.write(chunk);
      return;
    }
    const at = Math.max(Date.now() + latencyMs, previous);
    releaseAt.set(to, at);
    setTimeout(() => {
      if (!to.destroyed) to.write(chunk);
    }, at - Date.now());
  };
  // Answers held back while holding, in the order they came, with the client each is for.
  const held: Array<{ client: Socket; chunk: Buffer }> = [];
  let server: Server;
  let port = 0;

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((client) => {
        sockets.add(client);
        // The client's bytes until a target has taken the connection.
        const early: Buffer[] = [];
        let upstream: Socket | undefined;
        const drop = () => {
          client.destroy();
          upstream?.destroy();
          sockets.delete(client);
          if (upstream) sockets.delete(upstream);
        };
        client.on("error", drop).on("close", drop);
        // Forwarded by hand, not piped: a pipe resumes a paused source (on every drain, and when a
        // connection made during a hold is piped), so answers would slip through a hold.
        client.on("data", (chunk: Buffer) => (upstream ? send(upstream, chunk) : early.push(chunk)));
        const first = turn++;
        const attempt = (tries: number) => {
          const socket = connect(targets[(first + tries) % targets.length] as { host: string; port: number });
          sockets.add(socket);
          socket.once("connect", () => {
            upstream = socket;
            for (const chunk of early.splice(0)) send(socket, chunk);
            socket.on("data", (chunk: Buffer) => {
              if (holding) held.push({ client, chunk });
              else send(client, chunk);
            });
            socket.on("close", drop);
          });
          socket.on("error", () => {
            sockets.delete(socket);
            // A target that refuses the connection: the next one, once round; a broken one: the end.
            if (upstream !== socket && tries + 1 < targets.length && !client.destroyed) attempt(tries + 1);
            else drop();
          });
        };
        attempt(0);
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
      for (const { client, chunk } of held.splice(0)) if (!client.destroyed) send(client, chunk);
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    close: stop,
  };
}

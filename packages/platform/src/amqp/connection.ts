import amqp, { type AmqpConnectionManager } from "amqp-connection-manager";
import type { Logger } from "../log/index.js";

export type { AmqpConnectionManager } from "amqp-connection-manager";

/** Hides credentials when a broker URL is logged. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, "//***@");
}

/**
 * A connection that reconnects by itself after a broker restart or a network cut (amqp-connection-
 * manager re-runs each channel's setup: topology, prefetch, consumers). Publishes wait for it.
 *
 * Every channel made on it reports a failed setup to the log: the connection manager emits such a
 * failure as the channel's 'error' event (a setup cut short when the connection drops mid-way, for
 * one), and an 'error' event nobody listens to becomes an unhandled rejection that ends the process.
 * The setup runs again on the next connect.
 */
export function connectAmqp(url: string, options: { name: string; logger: Logger }): AmqpConnectionManager {
  const connection = amqp.connect([url], {
    heartbeatIntervalInSeconds: 5,
    reconnectTimeInSeconds: 1,
    connectionOptions: { clientProperties: { connection_name: options.name } },
  });
  const createChannel = connection.createChannel.bind(connection);
  connection.createChannel = (channelOptions) => {
    const channel = createChannel(channelOptions);
    channel.on("error", (err: unknown, info?: { name?: string }) =>
      options.logger.warn(
        { err, channel: info?.name },
        "amqp channel setup failed; it runs again on the next connect",
      ),
    );
    return channel;
  };
  const where = redactUrl(url);
  connection.on("connect", () => options.logger.info({ broker: where }, "amqp connected"));
  connection.on("disconnect", ({ err }) =>
    options.logger.warn({ broker: where, err }, "amqp disconnected; reconnecting"),
  );
  connection.on("connectFailed", ({ err }) =>
    options.logger.warn({ broker: where, err }, "amqp connect failed"),
  );
  return connection;
}

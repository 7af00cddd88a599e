import { type DescMessage, fromBinary, type MessageShape } from "@bufbuild/protobuf";
import { connect } from "amqplib";

/** Every event published to an exchange while the capture is open, decoded on demand. */
export interface EventCapture {
  readonly events: Array<{
    id: string;
    type: string;
    subject: string;
    correlationId: string;
    data: Uint8Array;
  }>;
  of<Desc extends DescMessage>(schema: Desc): Array<MessageShape<Desc>>;
  close(): Promise<void>;
}

/**
 * Binds an exclusive queue to a test's exchange and collects what arrives (CloudEvents type and
 * subject from the headers, the protobuf body), so a test can wait for the events a call published.
 */
export async function captureEvents(
  amqpUrl: string,
  exchange: string,
  bindings: readonly string[],
): Promise<EventCapture> {
  const connection = await connect(amqpUrl);
  const channel = await connection.createChannel();
  await channel.assertExchange(exchange, "topic", { durable: true });
  const { queue } = await channel.assertQueue("", { exclusive: true });
  for (const binding of bindings) await channel.bindQueue(queue, exchange, binding);
  const events: EventCapture["events"] = [];
  await channel.consume(
    queue,
    (m) => {
      if (!m) return;
      events.push({
        id: String(m.properties.headers?.["ce-id"]),
        type: String(m.properties.headers?.["ce-type"]),
        subject: String(m.properties.headers?.["ce-subject"]),
        correlationId: String(m.properties.headers?.["ce-correlationid"]),
        data: new Uint8Array(m.content),
      });
    },
    { noAck: true },
  );
  return {
    events,
    of: (schema) => events.filter((e) => e.type === schema.typeName).map((e) => fromBinary(schema, e.data)),
    close: () => connection.close().catch(() => {}),
  };
}

// The journal of inbound channel messages (`inbound_journal`): each webhook and file as it came (its
// headers without credentials, its body) and what became of it (status, answer, the customers it
// concerned), written when the message arrives, before anything is applied, and completed after.

import { findPage } from "@retail/platform/store";
import { Binary, type Db, type Filter } from "mongodb";

export type Verification = "signature" | "api-key" | "jwt" | "refused";

/** How far a long file has come while it is handled. */
export interface Progress {
  readonly bytesRead: number;
  readonly rowsRead: number;
  readonly rowsRejected: number;
  readonly partsSent: number;
  readonly partsTotal: number;
  readonly updatedAt: Date;
}

export interface JournalEntry {
  readonly messageId: string;
  readonly endpoint: string;
  readonly channel: string;
  readonly channelMessageId: string;
  readonly clientId: string;
  readonly receivedAt: Date;
  readonly contentType: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  readonly bodySize: number;
  readonly bodyTruncated: boolean;
  readonly verification: Verification | undefined;
  readonly status: number;
  readonly outcome: string;
  readonly correlationId: string;
  readonly customerIds: readonly string[];
  readonly erasedAt: Date | undefined;
  readonly replayOf: string;
  readonly replayedBy: string;
  readonly progress?: Progress;
}

interface JournalDocument {
  _id: string;
  endpoint: string;
  channel: string;
  channelMessageId: string;
  clientId: string;
  receivedAt: Date;
  contentType: string;
  headers: Record<string, string>;
  body: Binary;
  bodySize: number;
  bodyTruncated: boolean;
  verification?: Verification;
  status: number;
  outcome: string;
  correlationId: string;
  customerIds: string[];
  erasedAt?: Date;
  replayOf: string;
  replayedBy: string;
  progress?: Progress;
}

export interface JournalFilter {
  readonly channel?: string;
  readonly channelMessageId?: string;
  readonly failedOnly?: boolean;
  readonly since?: Date;
}

export interface InboundJournal {
  /** Records a message as it arrives (status 0: being handled). */
  received(entry: JournalEntry): Promise<void>;
  /** Completes its record: who sent it, how that was established, the answer. */
  completed(
    messageId: string,
    result: {
      clientId: string;
      verification: Verification;
      status: number;
      outcome: string;
      customerIds: readonly string[];
      body?: Buffer;
      bodySize?: number;
      bodyTruncated?: boolean;
      /** Where a long file ended. */
      progress?: Progress;
    },
  ): Promise<void>;
  /** Records how far a long file has come (the last report stands). */
  progressed(messageId: string, progress: Progress): Promise<void>;
  get(messageId: string): Promise<JournalEntry | undefined>;
  /** Newest first; without bodies. */
  list(
    filter: JournalFilter,
    pageSize: number,
    pageToken: string,
  ): Promise<{ entries: JournalEntry[]; nextPageToken: string }>;
  /** Empties the body and answer of every message concerning the customer; how many. */
  eraseCustomer(customerId: string, at: Date): Promise<number>;
  /** Removes messages received before `before`; how many. */
  forget(before: Date): Promise<number>;
  ensureIndexes(): Promise<void>;
}

function toEntry(doc: JournalDocument): JournalEntry {
  const { _id, body, verification, erasedAt, ...rest } = doc;
  return { ...rest, messageId: _id, body: Buffer.from(body.buffer), verification, erasedAt };
}

export function createInboundJournal(db: Db): InboundJournal {
  const journal = db.collection<JournalDocument>("inbound_journal");
  return {
    async ensureIndexes() {
      await journal.createIndex({ receivedAt: -1 });
      await journal.createIndex({ channel: 1, receivedAt: -1 });
      await journal.createIndex({ customerIds: 1 });
      await journal.createIndex({ channelMessageId: 1 });
    },
    async received(entry) {
      const { messageId, body, verification, erasedAt, ...rest } = entry;
      await journal.insertOne({
        ...rest,
        _id: messageId,
        headers: { ...entry.headers },
        customerIds: [...entry.customerIds],
        body: new Binary(body),
        ...(verification ? { verification } : {}),
      });
    },
    async completed(messageId, result) {
      const { body, bodySize, bodyTruncated, customerIds, ...rest } = result;
      await journal.updateOne(
        { _id: messageId },
        {
          $set: {
            ...rest,
            customerIds: [...customerIds],
            ...(body ? { body: new Binary(body), bodyTruncated: bodyTruncated ?? false } : {}),
            ...(bodySize !== undefined ? { bodySize } : {}),
          },
        },
      );
    },
    async progressed(messageId, progress) {
      await journal.updateOne({ _id: messageId }, { $set: { progress } });
    },
    async get(messageId) {
      const found = await journal.findOne({ _id: messageId });
      return found ? toEntry(found) : undefined;
    },
    async list(filter, pageSize, pageToken) {
      const query: Filter<JournalDocument> = {
        ...(filter.channel ? { channel: filter.channel } : {}),
        ...(filter.channelMessageId ? { channelMessageId: filter.channelMessageId } : {}),
        ...(filter.failedOnly ? { $or: [{ status: { $lt: 200 } }, { status: { $gte: 300 } }] } : {}),
        ...(filter.since ? { receivedAt: { $gte: filter.since } } : {}),
      };
      const page = await findPage(journal, query, "receivedAt", pageSize, pageToken, "descending");
      return {
        entries: page.docs.map((d) => ({ ...toEntry(d), body: Buffer.alloc(0) })),
        nextPageToken: page.nextPageToken,
      };
    },
    async eraseCustomer(customerId, at) {
      const result = await journal.updateMany(
        { customerIds: customerId },
        { $set: { body: new Binary(Buffer.alloc(0)), outcome: "", erasedAt: at } },
      );
      return result.modifiedCount;
    },
    async forget(before) {
      return (await journal.deleteMany({ receivedAt: { $lt: before } })).deletedCount;
    },
  };
}

// Every channel message (a webhook, a file) goes one way: its sender established (the channel's
// signature, or the caller's credentials), journaled as it came, then handled as its sender, and the
// journal completed with the answer. Nothing is applied before the journal has it: when the journal
// cannot be written the message is refused (503) and the channel sends it again. An operator replays a
// journaled message the same way, acting as the client it acted as.
import { randomUUID } from "node:crypto";
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import { currentCallContext } from "@retail/platform/rpc";
import type { Principal } from "../access/authenticate.js";
import type { InboundJournal, JournalEntry, Progress, Verification } from "../adapters/inbound-journal.js";
import { bodyTooLarge, readBody } from "./body.js";
import { renderError, send } from "./respond.js";
import { actingAs, type RestDependencies, type RestOutcome, spendRateLimit } from "./rest-handler.js";

/** A channel message as a handler reads it: live from the request, or from the journal for a replay. */
export interface InboundMessage {
  readonly method: "POST";
  readonly headers: IncomingHttpHeaders;
  /** The whole body; empty for a streamed endpoint's live message (its `stream` has it). */
  readonly raw: Buffer;
  /** A streamed endpoint's body, read once by its handler as it comes, never held whole. */
  readonly stream?: StreamedBody;
  /** Where a long file's handler tells how far it has come (journaled now and then while it runs). */
  readonly progress?: (report: Partial<Omit<Progress, "bytesRead" | "updatedAt">>) => void;
}

/** How often a long file's progress is written to the journal. */
const progressEveryMs = 1_000;

/**
 * Progress reports of a streamed message, written to its journal entry at most once a second, one
 * write at a time; `stop` waits for the last write and takes no more, so a report can never land on
 * the entry after its completion (a database that rewrites a document whole would undo it).
 */
function progressWriter(journal: InboundJournal, messageId: string, stream: StreamedBody) {
  let current: Omit<Progress, "bytesRead" | "updatedAt"> = {
    rowsRead: 0,
    rowsRejected: 0,
    partsSent: 0,
    partsTotal: 0,
  };
  let lastWrite = 0;
  let writing: Promise<void> = Promise.resolve();
  let stopped = false;
  const write = () => {
    lastWrite = Date.now();
    const progress = { ...current, bytesRead: stream.size, updatedAt: new Date() };
    // A progress write that fails only leaves the figure older: the file goes on.
    writing = writing.then(() => journal.progressed(messageId, progress).catch(() => undefined));
  };
  return {
    report(report: Partial<Omit<Progress, "bytesRead" | "updatedAt">>) {
      current = { ...current, ...report };
      if (!stopped && Date.now() - lastWrite >= progressEveryMs) write();
    },
    async stop(): Promise<Progress> {
      stopped = true;
      await writing;
      return { ...current, bytesRead: stream.size, updatedAt: new Date() };
    },
  };
}

/**
 * A request body passed through as it is read: its size counted (refused with 413 past `limit`) and
 * its first bytes kept for the journal.
 */
export class StreamedBody implements AsyncIterable<Buffer> {
  #size = 0;
  readonly #prefix: Buffer[] = [];
  #prefixSize = 0;
  constructor(
    private readonly source: IncomingMessage,
    private readonly limit: number,
  ) {}

  get size(): number {
    return this.#size;
  }

  /** The first bytes read (what the journal keeps of a body too large to keep whole). */
  prefix(): Buffer {
    return Buffer.concat(this.#prefix);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    if (Number(this.source.headers["content-length"] ?? "0") > this.limit) throw bodyTooLarge(this.limit);
    for await (const chunk of this.source as AsyncIterable<Buffer>) {
      this.#size += chunk.length;
      if (this.#size > this.limit) {
        this.source.resume();
        throw bodyTooLarge(this.limit);
      }
      if (this.#prefixSize < streamedKeptBytes) {
        const part = chunk.subarray(0, streamedKeptBytes - this.#prefixSize);
        this.#prefix.push(part);
        this.#prefixSize += part.length;
      }
      yield chunk;
    }
  }
}

/** What the gateway answers a channel message with. */
export interface Answer {
  readonly status: number;
  readonly body: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** A channel endpoint outside the transcoded routes (webhooks, file imports). */
export interface ChannelEndpoint {
  /** The channel's name in the journal ("shopify", "x12"). */
  readonly channel: string;
  /**
   * Its files may be large: the body is streamed to the handler (up to the import limit) instead of
   * read first, and the journal keeps its first 64 KiB, its size, and that it was cut.
   */
  readonly streamed?: boolean;
  /** The channel's own id of a message, where it gives one (a webhook id, an event id, a file's key). */
  channelMessageId(message: InboundMessage): string;
  /** The sender: the channel's signature, or the caller's credentials; throws the refusal. */
  authenticate(deps: RestDependencies, message: InboundMessage): Promise<Principal>;
  /** What the message becomes, acting as its sender (its rate limit spent, its scopes to check). */
  handle(
    deps: RestDependencies,
    message: InboundMessage,
    principal: Principal,
    signal: AbortSignal,
  ): Promise<Answer>;
}

/** Headers never journaled: they are credentials. */
const credentials = new Set(["authorization", "x-api-key", "cookie", "proxy-authorization"]);
/** How much of an unauthenticated body, and of any answer, the journal keeps. */
const keptBytes = 4096;
/** How much of a streamed body the journal keeps. */
const streamedKeptBytes = 65_536;

function journaledHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers))
    if (value !== undefined && !credentials.has(name))
      kept[name] = Array.isArray(value) ? value.join(", ") : value;
  return kept;
}

const verificationOf = (principal: Principal): Verification =>
  principal.method === "webhook-signature" ? "signature" : principal.method;

/** The customers an answer names (the orders a message made or changed), for erasure. */
export function customerIdsIn(body: string): string[] {
  const found = new Set<string>();
  for (const match of body.matchAll(/"customerId"\s*:\s*"([^"\\]+)"/g)) if (match[1]) found.add(match[1]);
  return [...found];
}

async function answerOf(run: () => Promise<Answer>): Promise<{ answer: Answer; failure: unknown }> {
  try {
    return { answer: await run(), failure: undefined };
  } catch (error) {
    const rendered = renderError(error);
    const answer = {
      status: rendered.status,
      body: rendered.body,
      ...(rendered.headers && { headers: rendered.headers }),
    };
    return { answer, failure: error };
  }
}

/**
 * Receives a channel message: sender, journal, handling, journal completed, answer. A failure is
 * journaled and then thrown for the server to answer and log.
 */
export async function receiveInbound(
  deps: RestDependencies,
  journal: InboundJournal,
  endpoint: ChannelEndpoint,
  request: IncomingMessage,
  response: ServerResponse,
  outcome: RestOutcome,
  signal: AbortSignal,
): Promise<void> {
  const stream = endpoint.streamed ? new StreamedBody(request, deps.maxStreamedBytes) : undefined;
  const raw = stream ? Buffer.alloc(0) : await readBody(request, deps.maxBodyBytes);
  const message: InboundMessage = {
    method: "POST",
    headers: request.headers,
    raw,
    ...(stream && { stream }),
  };
  const url = new URL(request.url ?? "/", "http://gateway");
  const entry = (principal: Principal | undefined): JournalEntry => ({
    messageId: randomUUID(),
    endpoint: url.pathname,
    channel: endpoint.channel,
    channelMessageId: endpoint.channelMessageId(message).slice(0, 255),
    clientId: principal?.client.id ?? "",
    receivedAt: new Date(),
    contentType: String(request.headers["content-type"] ?? ""),
    headers: journaledHeaders(request.headers),
    body: principal ? raw : raw.subarray(0, keptBytes),
    bodySize: raw.length,
    bodyTruncated: !principal && raw.length > keptBytes,
    verification: principal ? verificationOf(principal) : "refused",
    status: 0,
    outcome: "",
    correlationId: currentCallContext()?.correlationId ?? "",
    customerIds: [],
    erasedAt: undefined,
    replayOf: "",
    replayedBy: "",
  });
  let principal: Principal;
  try {
    principal = await endpoint.authenticate(deps, message);
  } catch (error) {
    const rendered = renderError(error);
    await journal.received({
      ...entry(undefined),
      status: rendered.status,
      outcome: rendered.body.slice(0, keptBytes),
    });
    throw error;
  }
  actingAs(principal, outcome);
  const received = entry(principal);
  await journal.received(received);
  const progress = stream ? progressWriter(journal, received.messageId, stream) : undefined;
  const { answer, failure } = await answerOf(async () => {
    await spendRateLimit(deps, principal.client);
    return endpoint.handle(
      deps,
      progress ? { ...message, progress: progress.report } : message,
      principal,
      signal,
    );
  });
  await complete(journal, received.messageId, principal, answer, stream, await progress?.stop());
  if (failure) throw failure;
  send(response, answer.status, answer.body, answer.headers ?? {});
}

async function complete(
  journal: InboundJournal,
  messageId: string,
  principal: Principal,
  answer: Answer,
  stream?: StreamedBody,
  progress?: Progress,
) {
  await journal.completed(messageId, {
    ...(progress && { progress }),
    clientId: principal.client.id,
    verification: verificationOf(principal),
    status: answer.status,
    outcome: answer.body.slice(0, keptBytes),
    customerIds: customerIdsIn(answer.body),
    ...(stream && {
      body: stream.prefix(),
      bodySize: stream.size,
      bodyTruncated: stream.size > streamedKeptBytes,
    }),
  });
}

/**
 * Handles a journaled message again, as the client it acted as then (its scopes and rate limit as they
 * are now), and journals the replay as a message of its own. Only a message whose sender was
 * established can be replayed: the journal does not keep credentials, so a refused one would be let in.
 */
export async function replayInbound(
  deps: RestDependencies,
  journal: InboundJournal,
  endpoint: ChannelEndpoint,
  original: JournalEntry,
  operator: string,
  signal: AbortSignal,
): Promise<JournalEntry> {
  const client = deps.clients.current().byId(original.clientId);
  if (
    !client ||
    !original.verification ||
    original.verification === "refused" ||
    original.erasedAt ||
    original.bodyTruncated
  )
    throw new ReplayRefused(original);
  const principal: Principal = {
    client,
    scopes: client.scopes,
    method: original.verification === "signature" ? "webhook-signature" : original.verification,
  };
  const message: InboundMessage = { method: "POST", headers: { ...original.headers }, raw: original.body };
  const replay: JournalEntry = {
    ...original,
    messageId: randomUUID(),
    receivedAt: new Date(),
    status: 0,
    outcome: "",
    customerIds: [],
    correlationId: currentCallContext()?.correlationId ?? "",
    replayOf: original.messageId,
    replayedBy: operator,
  };
  await journal.received(replay);
  const { answer } = await answerOf(async () => {
    await spendRateLimit(deps, client);
    return endpoint.handle(deps, message, principal, signal);
  });
  await complete(journal, replay.messageId, principal, answer);
  return (await journal.get(replay.messageId)) ?? replay;
}

/** A message that cannot be replayed: its sender was never established, or it was erased. */
export class ReplayRefused extends Error {
  readonly kind = "replay-refused";
  constructor(readonly entry: JournalEntry) {
    super(
      entry.erasedAt
        ? `message ${entry.messageId} was erased`
        : entry.bodyTruncated
          ? `message ${entry.messageId} was too large to keep whole (${entry.bodySize} bytes): send the file again`
          : entry.verification === "refused" || !entry.verification
            ? `message ${entry.messageId} was refused when it came (no valid signature or credential): only established messages can be replayed`
            : `the client ${entry.clientId} of message ${entry.messageId} is no longer configured`,
    );
  }
}

export { keptBytes };

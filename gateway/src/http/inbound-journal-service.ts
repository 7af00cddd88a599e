// The gateway's own InboundJournalService, served in process behind the same REST routes, scopes,
// rate limits and Idempotency-Key as the services' (inbound:read, inbound:write).
import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, createRouterTransport, type Interceptor, type Transport } from "@connectrpc/connect";
import {
  type InboundMessage,
  InboundMessageSchema,
  Verification,
} from "@retail/contracts/retail/inbound/v1/inbound_pb";
import { InboundJournalService } from "@retail/contracts/retail/inbound/v1/inbound_service_pb";
import { currentCallContext, errorWithInfo, toConnectError, Violations } from "@retail/platform/rpc";
import { decodePageToken } from "@retail/platform/store";
import type { InboundJournal, JournalEntry } from "../adapters/inbound-journal.js";
import { channelEndpoints } from "./channel-endpoints.js";
import { ReplayRefused, replayInbound } from "./inbound.js";
import type { RestDependencies } from "./rest-handler.js";

const verifications = {
  signature: Verification.SIGNATURE,
  "api-key": Verification.API_KEY,
  jwt: Verification.JWT,
  refused: Verification.REFUSED,
} as const;

const maxPageSize = 200;

function toMessage(entry: JournalEntry, withBody: boolean): InboundMessage {
  return create(InboundMessageSchema, {
    messageId: entry.messageId,
    endpoint: entry.endpoint,
    channel: entry.channel,
    channelMessageId: entry.channelMessageId,
    clientId: entry.clientId,
    receiveTime: timestampFromDate(entry.receivedAt),
    contentType: entry.contentType,
    headers: { ...entry.headers },
    body: withBody ? new Uint8Array(entry.body) : new Uint8Array(),
    bodySize: BigInt(entry.bodySize),
    bodyTruncated: entry.bodyTruncated,
    verification: entry.verification ? verifications[entry.verification] : Verification.UNSPECIFIED,
    statusCode: entry.status,
    outcome: entry.outcome,
    correlationId: entry.correlationId,
    customerIds: [...entry.customerIds],
    ...(entry.erasedAt && { eraseTime: timestampFromDate(entry.erasedAt) }),
    replayOf: entry.replayOf,
    replayedBy: entry.replayedBy,
    ...(entry.progress && {
      progress: {
        bytesRead: BigInt(entry.progress.bytesRead),
        rowsRead: BigInt(entry.progress.rowsRead),
        rowsRejected: BigInt(entry.progress.rowsRejected),
        partsSent: entry.progress.partsSent,
        partsTotal: entry.progress.partsTotal,
        updateTime: timestampFromDate(entry.progress.updatedAt),
      },
    }),
  });
}

async function required(journal: InboundJournal, messageId: string): Promise<JournalEntry> {
  const entry = await journal.get(messageId);
  if (!entry)
    throw errorWithInfo(Code.NotFound, "INBOUND_MESSAGE_NOT_FOUND", `no inbound message ${messageId}`, {
      message_id: messageId,
    });
  return entry;
}

/** Domain refusals and field violations as callers see them, as the services' server edge maps them. */
const mapErrors: Interceptor = (next) => async (request) => {
  try {
    return await next(request);
  } catch (error) {
    if (error instanceof ReplayRefused)
      throw errorWithInfo(Code.FailedPrecondition, "REPLAY_REFUSED", error.message, {
        message_id: error.entry.messageId,
      });
    throw toConnectError(error);
  }
};

/** The journal's service as a transport the gateway's backends call like any service's. */
export function createInboundJournalTransport(
  journal: InboundJournal,
  rest: () => RestDependencies,
): Transport {
  return createRouterTransport(
    ({ service }) =>
      service(InboundJournalService, {
        async listInboundMessages(request) {
          const v = new Violations();
          if (request.pageSize < 0 || request.pageSize > maxPageSize)
            v.add("page_size", `must be 0-${maxPageSize}`);
          if (request.pageToken && !decodePageToken(request.pageToken))
            v.add("page_token", "is not a page token this service issued");
          v.throwIfAny();
          const page = await journal.list(
            {
              ...(request.channel && { channel: request.channel }),
              ...(request.channelMessageId && { channelMessageId: request.channelMessageId }),
              failedOnly: request.failedOnly,
              ...(request.since && { since: timestampDate(request.since) }),
            },
            request.pageSize || 50,
            request.pageToken,
          );
          return {
            messages: page.entries.map((e) => toMessage(e, false)),
            nextPageToken: page.nextPageToken,
          };
        },
        async getInboundMessage(request) {
          const v = new Violations();
          v.require("message_id", request.messageId);
          v.throwIfAny();
          return { message: toMessage(await required(journal, request.messageId), true) };
        },
        async replayInboundMessage(request, context) {
          const v = new Violations();
          v.require("request_id", request.requestId);
          v.require("message_id", request.messageId);
          v.throwIfAny();
          const original = await required(journal, request.messageId);
          const endpoint = channelEndpoints.get(original.endpoint);
          if (!endpoint) throw new ReplayRefused(original);
          const operator = currentCallContext()?.caller ?? "";
          const replayed = await replayInbound(rest(), journal, endpoint, original, operator, context.signal);
          return { message: toMessage(replayed, false) };
        },
      }),
    { router: { interceptors: [mapErrors] } },
  );
}

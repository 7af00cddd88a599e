// Channel files posted by the caller (API key or JWT, like any REST call) and imported through the
// services' contracts:
//   POST /imports/amazon/settlement-report  an Amazon settlement flat file V1 (tab-separated) ->
//     ImportSettlement (needs finance:write and an Idempotency-Key, which becomes the request id).
import { createHash } from "node:crypto";
import { create, toJson } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import {
  FinancePostingService,
  ImportSettlementRequestSchema,
  ImportSettlementResponseSchema,
} from "@retail/contracts/retail/finance/v1/finance_service_pb";
import { errorWithInfo, RequestInvalid } from "@retail/platform/rpc";
import { amazonSettlementToCanonical } from "../channel-formats/amazon-settlement.js";
import { requireScope } from "../channels/authenticate.js";
import { HttpRefusal, readBody } from "./body.js";
import { send } from "./respond.js";
import { admit, onceByKey, scopedIdempotencyKey } from "./rest-handler.js";
import type { ChannelEndpoint } from "./webhooks.js";

const amazonSettlementReport: ChannelEndpoint = async (deps, request, response, outcome, signal) => {
  const principal = await admit(deps, deps.clients.current(), request, outcome);
  requireScope(principal, "finance:write");
  const raw = await readBody(request, deps.maxBodyBytes);
  const mediaType = (request.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (mediaType !== "text/tab-separated-values" && mediaType !== "text/plain")
    throw new HttpRefusal(
      415,
      errorWithInfo(
        Code.InvalidArgument,
        "UNSUPPORTED_MEDIA_TYPE",
        "send the report as text/tab-separated-values",
      ),
    );
  const requestId = scopedIdempotencyKey(request, principal);
  if (!requestId)
    throw new RequestInvalid([
      {
        field: "Idempotency-Key",
        description: "is required: it becomes the request id, so a retry imports once",
      },
    ]);
  const settlement = amazonSettlementToCanonical(raw.toString("utf8"));
  const fingerprint = createHash("sha256").update(raw).digest("hex");
  const answer = await onceByKey(deps.idempotency, requestId, fingerprint, async () => {
    const message = create(ImportSettlementRequestSchema, { requestId, settlement });
    const result = await deps.invoke(FinancePostingService.method.importSettlement, message, signal);
    return {
      status: 200,
      body: JSON.stringify(
        toJson(ImportSettlementResponseSchema, result as never, { alwaysEmitImplicit: true }),
      ),
    };
  });
  send(response, answer.status, answer.body, answer.replayed ? { "idempotent-replayed": "true" } : {});
};

/** The file imports by path. */
export const imports: ReadonlyMap<string, ChannelEndpoint> = new Map([
  ["/imports/amazon/settlement-report", amazonSettlementReport],
]);

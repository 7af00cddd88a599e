// Channel files posted by the caller (API key or JWT, like any REST call) and imported through the
// services' contracts:
//   POST /imports/amazon/settlement-report  an Amazon settlement flat file V1 (tab-separated) ->
//     ImportSettlement (needs finance:write and an Idempotency-Key, which becomes the request id).
//   POST /imports/x12  an X12 interchange from a B2B partner: each 850 purchase order -> SubmitOrder
//     (needs order:write; the sender must be a partner of the calling client; every order is checked
//     before any is submitted; request ids come from the partner and PO number, so a resent file
//     submits nothing twice).
import { create, toJson } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { SettlementSchema } from "@retail/contracts/retail/finance/v1/finance_pb";
import {
  FinancePostingService,
  ImportSettlementRequestSchema,
  ImportSettlementResponseSchema,
} from "@retail/contracts/retail/finance/v1/finance_service_pb";
import { OrderStatusSchema } from "@retail/contracts/retail/order/v1/order_pb";
import { OrderService, type SubmitOrderResponse } from "@retail/contracts/retail/order/v1/order_service_pb";
import { errorWithInfo, RequestInvalid } from "@retail/platform/rpc";
import { fingerprint } from "@retail/platform/store";
import { requireScope } from "../access/authenticate.js";
import { invokeForClient } from "../access/order-visibility.js";
import { amazonSettlementToCanonical } from "../channel-formats/amazon-settlement.js";
import { parseInterchange, purchaseOrderToSubmit } from "../channel-formats/x12-purchase-order.js";
import { readBody, requireMediaType } from "./body.js";
import { send } from "./respond.js";
import { admit, onceByKey, scopedIdempotencyKey } from "./rest-handler.js";
import type { ChannelEndpoint } from "./webhooks.js";

const amazonSettlementReport: ChannelEndpoint = async (deps, request, response, outcome, signal) => {
  const principal = await admit(deps, deps.clients.current(), request, outcome);
  requireScope(principal, "finance:write");
  const raw = await readBody(request, deps.maxBodyBytes);
  requireMediaType(request, ["text/tab-separated-values", "text/plain"]);
  const requestId = scopedIdempotencyKey(request, principal);
  if (!requestId)
    throw new RequestInvalid([
      {
        field: "Idempotency-Key",
        description: "is required: it becomes the request id, so a retry imports once",
      },
    ]);
  const settlement = amazonSettlementToCanonical(raw.toString("utf8"));
  // The settlement as read, not the file's bytes: line endings or column order do not count.
  const answer = await onceByKey(
    deps.idempotency,
    requestId,
    fingerprint(SettlementSchema, settlement),
    async () => {
      const message = create(ImportSettlementRequestSchema, { requestId, settlement });
      const result = await deps.invoke(FinancePostingService.method.importSettlement, message, signal);
      return {
        status: 200,
        body: JSON.stringify(
          toJson(ImportSettlementResponseSchema, result as never, { alwaysEmitImplicit: true }),
        ),
      };
    },
  );
  send(response, answer.status, answer.body, answer.replayed ? { "idempotent-replayed": "true" } : {});
};

const x12Interchange: ChannelEndpoint = async (deps, request, response, outcome, signal) => {
  const clients = deps.clients.current();
  const principal = await admit(deps, clients, request, outcome);
  requireScope(principal, "order:write");
  const raw = await readBody(request, deps.maxBodyBytes);
  requireMediaType(request, ["application/edi-x12", "text/plain"]);
  const { senderId, transactions } = parseInterchange(raw.toString("utf8"));
  const partner = clients.file.x12Partners.find(
    (p) => p.senderId === senderId && p.clientId === principal.client.id,
  );
  if (!partner)
    throw errorWithInfo(
      Code.PermissionDenied,
      "PARTNER_NOT_ALLOWED",
      `this client may not send for ISA sender ${senderId}`,
      {
        sender_id: senderId,
      },
    );
  // Every order is mapped (and refused on any error) before the first is submitted.
  const orders = transactions.filter((t) => t.type === "850").map((t) => purchaseOrderToSubmit(t, partner));
  const submitted = [];
  for (const order of orders) {
    order.request.requestId = `${principal.client.id}:x12:${senderId}:850:${order.poNumber}`;
    const result = (await invokeForClient(
      principal.client,
      OrderService.method.submitOrder,
      order.request,
      deps.invoke,
      signal,
    )) as SubmitOrderResponse;
    submitted.push({
      poNumber: order.poNumber,
      orderId: result.order?.orderId,
      status: OrderStatusSchema.value[result.order?.status ?? 0]?.name,
    });
  }
  const ignored = transactions
    .filter((t) => t.type !== "850")
    .map((t) => ({ control: t.control, type: t.type }));
  send(response, 200, JSON.stringify({ orders: submitted, ignored }));
};

/** The file imports by path. */
export const imports: ReadonlyMap<string, ChannelEndpoint> = new Map([
  ["/imports/amazon/settlement-report", amazonSettlementReport],
  ["/imports/x12", x12Interchange],
]);

// The order handler as callers see it, served through createRouterTransport with the platform's
// server interceptor (error mapping included) and in-memory ports: validation, error details and
// paging in milliseconds, no database and no peers.
import { type Client, Code, createClient, createRouterTransport } from "@connectrpc/connect";
import { ErrorInfoSchema } from "@retail/contracts/google/rpc/error_details_pb";
import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import { OrderService } from "@retail/contracts/retail/order/v1/order_service_pb";
import { createLogger } from "@retail/platform/log";
import { createServerInterceptor } from "@retail/platform/rpc";
import { rejection, violatedFields } from "@retail/platform/testing";
import { beforeEach, describe, expect, it } from "vitest";
import type { OrderDeps, OrderFilter } from "../app/ports.js";
import { mapOrderError } from "./error-codes.js";
import { createOrderHandler } from "./order-handler.js";

let listed: Array<{ filter: OrderFilter; pageSize: number; pageToken: string }> = [];
let client: Client<typeof OrderService>;

beforeEach(() => {
  listed = [];
  const logger = createLogger({ service: "test", level: "silent" });
  const deps = {
    streams: { load: async () => undefined },
    views: {
      list: async (filter: OrderFilter, pageSize: number, pageToken: string) => {
        listed.push({ filter, pageSize, pageToken });
        return { orders: [], nextPageToken: "" };
      },
    },
    clock: { now: () => new Date() },
    caller: () => "test",
    logger,
    lock: (_key: string, work: () => Promise<unknown>) => work(),
  } as unknown as OrderDeps;
  const transport = createRouterTransport(
    ({ service }) => service(OrderService, createOrderHandler(deps, { pickupHoldMs: 3_600_000 })),
    { router: { interceptors: [createServerInterceptor({ logger, mapDomainError: mapOrderError })] } },
  );
  client = createClient(OrderService, transport);
});

const fields = violatedFields;

describe("order handler", () => {
  it("refuses a submission naming every bad field", async () => {
    const error = await rejection(
      client.submitOrder({
        requestId: "r1",
        channel: Channel.WEB,
        channelOrderId: "c1",
        currencyCode: "ZZZ",
        customer: { email: "a@b.c" },
        lines: [{ lineId: "1", sku: "", quantity: 0n }],
      }),
    );
    expect(error.code).toBe(Code.InvalidArgument);
    expect(fields(error)).toEqual(
      expect.arrayContaining(["currency_code", "customer", "lines[0].sku", "lines[0].quantity"]),
    );
  });

  it("refuses tax rates outside their rules", async () => {
    const error = await rejection(
      client.createTaxRate({
        requestId: "t1",
        jurisdiction: "ny",
        taxCode: "Standard Rate",
        ratePpm: 2_000_000n,
      }),
    );
    expect(fields(error)).toEqual(["jurisdiction", "tax_code", "rate_ppm"]);
  });

  it("checks list arguments before reading, and passes the page on", async () => {
    const error = await rejection(client.listOrders({ pageSize: 501, pageToken: "not-a-token" }));
    expect(fields(error)).toEqual(["page_size", "page_token"]);
    expect(listed).toEqual([]);
    await client.listOrders({ customerId: "c-1", pageSize: 0 });
    expect(listed).toEqual([{ filter: { customerId: "c-1" }, pageSize: 50, pageToken: "" }]);
  });

  it("maps an unknown order to NOT_FOUND with its reason", async () => {
    const error = await rejection(client.getOrder({ orderId: "ord-missing" }));
    expect(error.code).toBe(Code.NotFound);
    expect(error.findDetails(ErrorInfoSchema)[0]).toMatchObject({
      reason: "ORDER_NOT_FOUND",
      metadata: { order_id: "ord-missing" },
    });
  });
});

// The customer handler as callers see it, served through createRouterTransport with the platform's
// server interceptor and in-memory ports: validation and error details in milliseconds, no database.
import {
  type Client,
  Code,
  type ConnectError,
  createClient,
  createRouterTransport,
} from "@connectrpc/connect";
import { BadRequestSchema } from "@retail/contracts/google/rpc/error_details_pb";
import { CustomerIdentityService } from "@retail/contracts/retail/customer/v1/customer_service_pb";
import { createLogger } from "@retail/platform/log";
import { createServerInterceptor } from "@retail/platform/rpc";
import { rejection } from "@retail/platform/testing";
import { beforeEach, describe, expect, it } from "vitest";
import type { CustomerDeps } from "../app/ports.js";
import { defaultSourceSystems } from "../domain/source-systems.js";
import { createCustomerHandler } from "./customer-handler.js";
import { mapCustomerError } from "./error-codes.js";

let client: Client<typeof CustomerIdentityService>;

beforeEach(() => {
  const logger = createLogger({ service: "test", level: "silent" });
  const deps = {
    sourceSystems: (id: string) => defaultSourceSystems.find((s) => s.id === id),
    clock: { now: () => new Date() },
    logger,
  } as unknown as CustomerDeps;
  const transport = createRouterTransport(
    ({ service }) => service(CustomerIdentityService, createCustomerHandler(deps, { lookupRegion: "US" })),
    { router: { interceptors: [createServerInterceptor({ logger, mapDomainError: mapCustomerError })] } },
  );
  client = createClient(CustomerIdentityService, transport);
});

const violations = (error: ConnectError) =>
  error.findDetails(BadRequestSchema)[0]?.fieldViolations.map((v) => [v.field, v.description]);

describe("customer handler", () => {
  it("refuses a source record naming every bad field", async () => {
    const error = await rejection(
      client.upsertFromSource({
        sourceRecord: { sourceSystem: "nowhere", sourceId: "", email: "not-an-email" },
      }),
    );
    expect(error.code).toBe(Code.InvalidArgument);
    expect(violations(error)?.map(([field]) => field)).toEqual(
      expect.arrayContaining([
        "request_id",
        "source_record.source_system",
        "source_record.source_id",
        "source_record.email",
      ]),
    );
  });

  it("looks a customer up by exactly one key, each checked by its own rule", async () => {
    expect(violations(await rejection(client.lookupCustomer({})))).toEqual([
      ["key", "exactly one of email, phone, loyalty_number or source is required"],
    ]);
    expect(
      violations(await rejection(client.lookupCustomer({ key: { case: "phone", value: "12" } }))),
    ).toEqual([["phone", "must be a valid phone number (+country code, or national in US)"]]);
  });
});

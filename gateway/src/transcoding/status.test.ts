import { Code, ConnectError } from "@connectrpc/connect";
import { errorWithInfo, invalidArgument } from "@retail/platform/rpc";
import { describe, expect, it } from "vitest";
import { httpStatusOf, statusJson } from "./status.js";

describe("error mapping", () => {
  it("maps gRPC codes to HTTP statuses by google/rpc/code.proto's table", () => {
    const table: [Code, number][] = [
      [Code.InvalidArgument, 400],
      [Code.FailedPrecondition, 400],
      [Code.OutOfRange, 400],
      [Code.Unauthenticated, 401],
      [Code.PermissionDenied, 403],
      [Code.NotFound, 404],
      [Code.AlreadyExists, 409],
      [Code.Aborted, 409],
      [Code.ResourceExhausted, 429],
      [Code.Canceled, 499],
      [Code.Internal, 500],
      [Code.Unknown, 500],
      [Code.DataLoss, 500],
      [Code.Unimplemented, 501],
      [Code.Unavailable, 503],
      [Code.DeadlineExceeded, 504],
    ];
    for (const [code, status] of table) expect(httpStatusOf(code), Code[code]).toBe(status);
  });

  it("writes google.rpc.Status JSON with typed details", () => {
    expect(
      statusJson(invalidArgument([{ field: "lines[0].quantity", description: "must be positive" }])),
    ).toEqual({
      code: 3,
      message: "invalid request: lines[0].quantity must be positive",
      details: [
        {
          "@type": "type.googleapis.com/google.rpc.BadRequest",
          fieldViolations: [{ field: "lines[0].quantity", description: "must be positive" }],
        },
      ],
    });
    expect(
      statusJson(errorWithInfo(Code.NotFound, "ORDER_NOT_FOUND", "order o-1 not found", { order_id: "o-1" })),
    ).toEqual({
      code: 5,
      message: "order o-1 not found",
      details: [
        {
          "@type": "type.googleapis.com/google.rpc.ErrorInfo",
          reason: "ORDER_NOT_FOUND",
          domain: "retail.mesh",
          metadata: { order_id: "o-1" },
        },
      ],
    });
  });

  it("keeps incoming details it knows and drops the ones it cannot name", () => {
    const error = new ConnectError("bad", Code.InvalidArgument);
    error.details.push(
      { type: "google.rpc.ErrorInfo", value: new Uint8Array([10, 1, 88]) },
      { type: "acme.Secret", value: new Uint8Array([1, 2]) },
    );
    expect(statusJson(error)).toEqual({
      code: 3,
      message: "bad",
      details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "X" }],
    });
  });
});

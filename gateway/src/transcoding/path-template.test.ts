import { describe, expect, it } from "vitest";
import {
  matchPathTemplate,
  PathEncodingError,
  parsePathTemplate,
  TemplateSyntaxError,
} from "./path-template.js";

const match = (template: string, path: string) => {
  const values = matchPathTemplate(parsePathTemplate(template), path);
  return values && Object.fromEntries(values);
};

describe("path templates", () => {
  it("binds single-segment variables and literal segments", () => {
    expect(
      match("/v1/locations/{location_id}/skus/{sku}/position", "/v1/locations/DC-1/skus/SKU-9/position"),
    ).toEqual({
      location_id: "DC-1",
      sku: "SKU-9",
    });
    expect(
      match("/v1/locations/{location_id}/skus/{sku}/position", "/v1/locations/DC-1/skus/SKU-9"),
    ).toBeUndefined();
    expect(match("/v1/orders/{order_id}", "/v1/orders/")).toBeUndefined();
  });

  it("binds nested field paths", () => {
    expect(match("/v1/locations/{location.location_id}", "/v1/locations/ST-1")).toEqual({
      "location.location_id": "ST-1",
    });
  });

  it("matches a custom verb only when the path ends with it", () => {
    expect(match("/v1/orders/{order_id}:cancel", "/v1/orders/o-1:cancel")).toEqual({ order_id: "o-1" });
    expect(match("/v1/orders/{order_id}:cancel", "/v1/orders/o-1:refund")).toBeUndefined();
    expect(match("/v1/customers:lookup", "/v1/customers:lookup")).toEqual({});
    // Without a verb in the template the colon is part of the value.
    expect(match("/v1/orders/{order_id}", "/v1/orders/web:42")).toEqual({ order_id: "web:42" });
  });

  it("decodes a single-segment variable fully, a multi-segment one except %2F", () => {
    expect(match("/v1/skus/{sku}/availability", "/v1/skus/A%2FB%20C/availability")).toEqual({ sku: "A/B C" });
    expect(match("/v1/{name=shelves/*/books/*}", "/v1/shelves/s%201/books/b%2Fx")).toEqual({
      name: "shelves/s 1/books/b%2Fx",
    });
    expect(match("/v1/files/{path=**}", "/v1/files/a/b%2Fc/d")).toEqual({ path: "a/b%2Fc/d" });
    expect(match("/v1/files/{path=**}:get", "/v1/files/a/b:get")).toEqual({ path: "a/b" });
  });

  it("refuses a malformed percent-escape as bad input", () => {
    expect(() => match("/v1/orders/{order_id}", "/v1/orders/%ZZ")).toThrow(PathEncodingError);
  });

  it("matches literal wildcards without binding them", () => {
    expect(match("/v1/*/items/{id}", "/v1/anything/items/7")).toEqual({ id: "7" });
    expect(match("/v1/*/items/{id}", "/v1/items/7")).toBeUndefined();
  });

  it("rejects templates that break the grammar", () => {
    for (const bad of ["v1/orders", "/v1/{a.{b}}", "/v1/{order id}", "/v1/**/x", "/v1/{a}/{a}", "/v1/{a"])
      expect(() => parsePathTemplate(bad), bad).toThrow(TemplateSyntaxError);
  });
});

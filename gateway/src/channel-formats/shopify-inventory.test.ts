import { readFileSync } from "node:fs";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { refusals } from "@retail/platform/testing";
import { describe, expect, it } from "vitest";
import { parseLosslessJson } from "./lossless-json.js";
import { shopifyInventoryLevel, shopifyItemSkus } from "./shopify-inventory.js";

const sample = readFileSync(
  new URL("../../test/fixtures/shopify/inventory-levels-update.webhook.docs-example.json", import.meta.url),
  "utf8",
);
const json = (text: string) => parseLosslessJson(text) as Record<string, unknown>;

describe("Shopify inventory levels", () => {
  it("reads the sample's level with the item id from its gid (the id field was rounded by its scraper)", () => {
    const level = shopifyInventoryLevel(json(sample));
    expect(level).toMatchObject({
      inventoryItemId: "271878346596884015",
      shopifyLocationId: "24826418",
      // The sample's item is not tracked at the location.
      available: undefined,
    });
    expect(timestampDate(level.observed).toISOString()).toBe("2022-01-01T00:00:00.000Z");
    expect(
      shopifyInventoryLevel(json(sample.replace('"available": null', '"available": -3'))).available,
    ).toBe(-3n);
  });

  it("names the fields of a level it cannot use", () => {
    const broken = { inventory_item_id: "x", available: "many", updated_at: "yesterday" };
    expect(refusals(() => shopifyInventoryLevel(broken))).toEqual([
      "inventory_item_id: is required",
      "location_id: is required",
      "available: must be a whole number of units, or null",
      "updated_at: must be a date and time",
    ]);
  });
});

describe("Shopify item-to-SKU links", () => {
  it("takes an inventory item's SKU, and each variant's of a product, leaving out items without one", () => {
    const item = json(
      '{"id": 271878346596884015, "sku": "IPOD2008PINK", "updated_at": "2026-11-27T10:00:00-05:00", "admin_graphql_api_id": "gid://shopify/InventoryItem/271878346596884015"}',
    );
    expect(shopifyItemSkus("inventory_items/update", item)).toEqual({
      items: [{ inventoryItemId: "271878346596884015", sku: "IPOD2008PINK" }],
      observed: new Date("2026-11-27T15:00:00Z"),
    });
    const product = json(
      '{"id": 1, "updated_at": "2026-11-27T10:00:00Z", "variants": [{"inventory_item_id": 808950810, "sku": "PINK-S"}, {"inventory_item_id": 808950811, "sku": ""}]}',
    );
    expect(shopifyItemSkus("products/update", product).items).toEqual([
      { inventoryItemId: "808950810", sku: "PINK-S" },
    ]);
    expect(
      refusals(() =>
        shopifyItemSkus(
          "products/create",
          json('{"updated_at": "2026-11-27T10:00:00Z", "variants": [{"sku": "A"}]}'),
        ),
      ),
    ).toEqual(["variants[0].inventory_item_id: must be the inventory item's numeric id"]);
  });
});

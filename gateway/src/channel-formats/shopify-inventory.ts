// Shopify's stock notices. A shop's inventory level (inventory_levels/update: an inventory item's
// `available` at a Shopify location, as of `updated_at`) is what the storefront shows as sellable
// there; the mesh takes it as a drift signal (ReportChannelStock), never as a movement: the mesh is
// the stock's record, and a level is often the echo of the availability the mesh sent the shop. The
// level names an inventory item, not a SKU: the shop's item-to-SKU links come from its
// inventory_items/create|update notices (the item's `sku`) and products/create|update (each variant's
// `inventory_item_id` and `sku`), kept by the gateway. Ids are kept exact (lossless parse; the gids win).
import { type Timestamp, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { RequestInvalid } from "@retail/platform/rpc";
import { type Json, list, text } from "./json-fields.js";
import { shopifyId } from "./shopify-order-updates.js";

/** A shop's inventory item and the SKU it is. */
export interface ShopifyItemSku {
  readonly inventoryItemId: string;
  readonly sku: string;
}

/**
 * The item-to-SKU links a notice carries, with the time they were true (`updated_at`): an inventory
 * item's own, or every variant's of a product. Items without a SKU are left out (nothing to link).
 */
export function shopifyItemSkus(topic: string, body: Json): { items: ShopifyItemSku[]; observed: Date } {
  const observed = new Date(text(body.updated_at) ?? text(body.created_at) ?? "");
  if (Number.isNaN(observed.getTime()))
    throw new RequestInvalid([{ field: "updated_at", description: "must be a date and time" }]);
  const items = topic.startsWith("inventory_items/")
    ? [{ inventoryItemId: shopifyId(body, "InventoryItem") ?? "", sku: text(body.sku) ?? "" }]
    : list(body.variants).map((variant) => ({
        inventoryItemId: text(variant.inventory_item_id) ?? "",
        sku: text(variant.sku) ?? "",
      }));
  for (const [i, item] of items.entries())
    if (!/^\d+$/.test(item.inventoryItemId))
      throw new RequestInvalid([
        {
          field: topic.startsWith("inventory_items/") ? "id" : `variants[${i}].inventory_item_id`,
          description: "must be the inventory item's numeric id",
        },
      ]);
  return { items: items.filter((item) => item.sku.trim() !== ""), observed };
}

/** An inventory level as Shopify sent it; `available` undefined when the item is not tracked there. */
export interface ShopifyLevel {
  readonly inventoryItemId: string;
  readonly shopifyLocationId: string;
  readonly available: bigint | undefined;
  readonly observed: Timestamp;
}

/** Reads inventory_levels/update, naming each field it cannot use. */
export function shopifyInventoryLevel(body: Json): ShopifyLevel {
  // The level's gid carries both ids exactly: gid://shopify/InventoryLevel/<location>?inventory_item_id=<item>.
  const gid = /^gid:\/\/shopify\/InventoryLevel\/(\d+)\?inventory_item_id=(\d+)$/.exec(
    text(body.admin_graphql_api_id) ?? "",
  );
  const inventoryItemId = gid?.[2] ?? text(body.inventory_item_id) ?? "";
  const shopifyLocationId = gid?.[1] ?? text(body.location_id) ?? "";
  const violations = [];
  if (!/^\d+$/.test(inventoryItemId))
    violations.push({ field: "inventory_item_id", description: "is required" });
  if (!/^\d+$/.test(shopifyLocationId)) violations.push({ field: "location_id", description: "is required" });
  const available = body.available;
  if (available !== null && available !== undefined && !/^-?\d+$/.test(text(available) ?? ""))
    violations.push({ field: "available", description: "must be a whole number of units, or null" });
  const observed = new Date(text(body.updated_at) ?? "");
  if (Number.isNaN(observed.getTime()))
    violations.push({ field: "updated_at", description: "must be a date and time" });
  if (violations.length > 0) throw new RequestInvalid(violations);
  return {
    inventoryItemId,
    shopifyLocationId,
    available: available === null || available === undefined ? undefined : BigInt(text(available) ?? "0"),
    observed: timestampFromDate(observed),
  };
}

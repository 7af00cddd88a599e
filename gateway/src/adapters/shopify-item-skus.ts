// Which SKU each shop's inventory items are, in the gateway's MongoDB database (shared by its
// replicas): learned from the shop's item and product notices, read when an inventory level comes. A
// link is replaced only by a notice observed later (Shopify delivers out of order).
import { isDuplicateKey } from "@retail/platform/store";
import type { Db } from "mongodb";

export interface ShopifyItemSkus {
  /** The SKU of a shop's inventory item, when a notice has named it. */
  skuOf(shopDomain: string, inventoryItemId: string): Promise<string | undefined>;
  /** Keeps links as of `observed`; a link known from a later notice stays. */
  remember(
    shopDomain: string,
    items: ReadonlyArray<{ inventoryItemId: string; sku: string }>,
    observed: Date,
  ): Promise<void>;
}

interface LinkDocument {
  _id: string;
  sku: string;
  observed: Date;
}

export function createShopifyItemSkus(db: Db): ShopifyItemSkus {
  const links = db.collection<LinkDocument>("shopify_item_skus");
  const idOf = (shopDomain: string, inventoryItemId: string) => `${shopDomain}:${inventoryItemId}`;
  return {
    async skuOf(shopDomain, inventoryItemId) {
      return (await links.findOne({ _id: idOf(shopDomain, inventoryItemId) }))?.sku;
    },
    async remember(shopDomain, items, observed) {
      for (const { inventoryItemId, sku } of items) {
        const _id = idOf(shopDomain, inventoryItemId);
        try {
          // Matches only an older link (or none, inserting it); a newer one makes the insert collide.
          await links.updateOne(
            { _id, observed: { $lte: observed } },
            { $set: { sku, observed } },
            { upsert: true },
          );
        } catch (error) {
          if (!isDuplicateKey(error)) throw error;
        }
      }
    },
  };
}

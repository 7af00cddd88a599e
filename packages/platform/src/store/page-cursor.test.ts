import { describe, expect, it } from "vitest";
import { Violations } from "../rpc/errors.js";
import { checkPageRequest, decodePageToken, everyPage, pageByKey } from "./page-cursor.js";

describe("paging a list held whole", () => {
  const ids = ["a", "b", "c", "d", "e"];
  const shuffled = ["d", "a", "e", "c", "b"];

  it("walks every item once, page by page, and ends with no token", () => {
    const seen: string[] = [];
    let token = "";
    let pages = 0;
    do {
      const page = pageByKey(shuffled, (id) => id, 2, token);
      seen.push(...page.items);
      token = page.nextPageToken;
      pages++;
    } while (token);
    expect([seen, pages]).toEqual([ids, 3]);
  });

  it("goes on after the token's key even when that item is gone, and a full last page has no token", () => {
    const token = pageByKey(ids, (id) => id, 2, "").nextPageToken;
    expect(decodePageToken(token)?.id).toBe("b");
    expect(pageByKey(["a", "c", "d"], (id) => id, 2, token)).toEqual({
      items: ["c", "d"],
      nextPageToken: "",
    });
    expect(pageByKey(ids, (id) => id, 5, "")).toEqual({ items: ids, nextPageToken: "" });
    expect(pageByKey(["a"], (id) => id, 2, token)).toEqual({ items: [], nextPageToken: "" });
  });

  it("checks page_size and page_token, naming each, and gives the default size for 0", () => {
    const v = new Violations();
    expect(checkPageRequest(v, { pageSize: 0, pageToken: "" })).toBe(100);
    expect(v.size).toBe(0);
    checkPageRequest(v, { pageSize: 501, pageToken: "%%" });
    expect(() => v.throwIfAny()).toThrow(
      "page_size: must be 0-500; page_token: is not a page token this service issued",
    );
  });
});

describe("reading every page", () => {
  it("follows the tokens to the end and keeps the order", async () => {
    const ids = ["c", "a", "e", "b", "d"];
    let reads = 0;
    const all = await everyPage(async (token) => {
      reads++;
      const page = pageByKey(ids, (id) => id, 2, token);
      return { items: page.items, nextPageToken: page.nextPageToken };
    });
    expect([all, reads]).toEqual([["a", "b", "c", "d", "e"], 3]);
  });
});

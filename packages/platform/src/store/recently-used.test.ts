import { describe, expect, it } from "vitest";
import { RecentlyUsed } from "./recently-used.js";

describe("recently used", () => {
  it("forgets the entry used least recently once past its capacity", () => {
    const cache = new RecentlyUsed<string, number>(2);
    cache.set("a", 1);
    cache.set("b", 2);
    expect(cache.get("a")).toBe(1); // a is now the most recent
    cache.set("c", 3);
    expect(cache.has("b")).toBe(false);
    expect(cache.get("a")).toBe(1);
    expect(cache.get("c")).toBe(3);
    expect(cache.size).toBe(2);
    cache.delete("a");
    expect(cache.get("a")).toBeUndefined();
  });
});

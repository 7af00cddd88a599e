import { describe, expect, it } from "vitest";
import { ConcurrencyConflict } from "./errors.js";
import { createKeyedLock, retryOnConflict } from "./keyed-lock.js";

describe("keyed lock", () => {
  it("serialises work per key and lets other keys run alongside", async () => {
    const lock = createKeyedLock();
    const log: string[] = [];
    const step = (name: string, ms: number) => async () => {
      log.push(`${name}:start`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`${name}:end`);
      return name;
    };
    const results = await Promise.all([
      lock("a", step("a1", 30)),
      lock("a", step("a2", 1)),
      lock("b", step("b1", 1)),
    ]);
    expect(results).toEqual(["a1", "a2", "b1"]);
    expect(log.indexOf("a1:end")).toBeLessThan(log.indexOf("a2:start"));
    expect(log.indexOf("b1:end")).toBeLessThan(log.indexOf("a1:end"));
  });

  it("keeps going after a failed piece of work", async () => {
    const lock = createKeyedLock();
    await expect(lock("k", async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    await expect(lock("k", async () => "next")).resolves.toBe("next");
  });
});

describe("retryOnConflict", () => {
  const isConflict = (e: unknown) => e instanceof ConcurrencyConflict;

  it("retries conflicts until the work wins", async () => {
    let calls = 0;
    const result = await retryOnConflict(async () => {
      if (++calls < 4) throw new ConcurrencyConflict("s", 1);
      return "won";
    }, isConflict);
    expect(result).toBe("won");
    expect(calls).toBe(4);
  });

  it("gives up after the last attempt and never retries other errors", async () => {
    let calls = 0;
    await expect(
      retryOnConflict(
        async () => {
          calls++;
          throw new ConcurrencyConflict("s", 1);
        },
        isConflict,
        3,
      ),
    ).rejects.toBeInstanceOf(ConcurrencyConflict);
    expect(calls).toBe(3);
    await expect(retryOnConflict(async () => Promise.reject(new Error("other")), isConflict)).rejects.toThrow(
      "other",
    );
  });
});

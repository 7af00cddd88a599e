import { describe, expect, it } from "vitest";
import { z } from "zod";
import { baseEnvSchema, ConfigError, loadConfig } from "./index.js";

describe("loadConfig", () => {
  it("returns typed values with defaults applied", () => {
    const config = loadConfig(baseEnvSchema, {
      MONGODB_URL: "mongodb://127.0.0.1:27017/",
      AMQP_URL: "amqp://guest:guest@127.0.0.1:5672",
      PORT: "7001",
    });
    expect(config.PORT).toBe(7001);
    expect(config.LOG_LEVEL).toBe("info");
    expect(config.METRICS_PORT).toBe(9464);
  });

  it("names every missing and every bad variable in one error", () => {
    const schema = baseEnvSchema.extend({ CUSTOMER_IDENTITY_URL: z.url() });
    let error: unknown;
    try {
      loadConfig(schema, { AMQP_URL: "http://nope", PORT: "seventy" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toContain("MONGODB_URL is required but not set");
    expect(problems).toContain("CUSTOMER_IDENTITY_URL is required but not set");
    expect(problems.find((p) => p.startsWith("AMQP_URL:"))).toMatch(/amqp:\/\//);
    expect(problems.find((p) => p.startsWith("PORT:"))).toBeDefined();
    expect((error as Error).message).toContain("MONGODB_URL");
  });
});

import { defineConfig } from "vitest/config";

// One run for the whole repository. Workspace packages resolve to their TypeScript sources through
// the "source" export condition, so tests never need a prior build.
export default defineConfig({
  resolve: { conditions: ["source", "import", "node", "default"] },
  ssr: { resolve: { conditions: ["source", "import", "node", "default"], externalConditions: ["source"] } },
  test: {
    include: ["{packages,services,gateway,test,scripts}/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    globalSetup: ["./vitest.global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: 2,
    reporters: ["default"],
  },
});

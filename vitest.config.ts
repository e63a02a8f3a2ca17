import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["**/*.test.ts"],
    exclude: ["node_modules/**", ".next/**", "e2e/**", "data/**"],
    // Integration tests start databases, brokers and processes: give them room
    // on a shared 2-core machine; correctness, not timing, is asserted.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
  },
});

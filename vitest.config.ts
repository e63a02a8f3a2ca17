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
    // Two files at a time: most of a file's time is spent waiting (for
    // processes, brokers, timers), and with vitest's default of cores - 1
    // one file ran at a time on the 2-core CI machine (docs/testing.md).
    maxWorkers: 2,
  },
});

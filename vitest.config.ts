import { defineConfig } from "vitest/config";

/**
 * One test run for the whole workspace: unit tests beside the code
 * (`packages/*\/src/**\/*.test.ts`) or in a package's `test/`, end-to-end
 * tests in `e2e/` (real processes, real sockets). Workspace imports resolve to
 * TypeScript sources through the "source" export condition, so unit tests need
 * no build; e2e tests spawn the built CLIs (`pnpm build` first).
 *
 * Two test files at a time, also on a 2-core machine (vitest's default there is one): most e2e
 * files spend their time waiting on real processes (heartbeat windows, Python start-up, rounds),
 * so a second file in parallel shortens the run without starving the first.
 */
export default defineConfig({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"], externalConditions: ["source"] } },
  test: {
    include: [
      "packages/*/src/**/*.test.ts",
      "packages/*/test/**/*.test.ts",
      "examples/*/**/*.test.ts",
      "e2e/**/*.test.ts",
    ],
    exclude: ["**/node_modules/**", "**/dist/**"],
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});

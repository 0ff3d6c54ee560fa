/** Node sampling: waits for enough nodes, samples without replacement, reuses a fresh snapshot. */
import { describe, expect, test } from "vitest";
import { MemoryLogger } from "../app/logger.js";
import type { Grid } from "../grid/grid.js";
import { sampleNodes } from "./sample-nodes.js";

/** A Grid whose node list grows by one per `getNodeIds()` call, counting calls. */
function growingGrid(start: number) {
  let n = start;
  const grid = {
    calls: 0,
    getNodeIds: async () => {
      grid.calls++;
      const ids = Array.from({ length: n }, (_, i) => BigInt(i + 1));
      n++;
      return ids;
    },
  };
  return grid;
}

describe("sampleNodes", () => {
  test("polls until enough nodes are connected, then samples without replacement", async () => {
    const grid = growingGrid(1);
    const logger = new MemoryLogger();
    const [sampled, all] = await sampleNodes(grid as unknown as Grid, 3, 2, {
      pollIntervalMs: 1,
      logger,
    });
    expect(all).toHaveLength(3);
    expect(grid.calls).toBe(3);
    expect(new Set(sampled).size).toBe(2);
    for (const id of sampled) expect(all).toContain(id);
  });

  test("a snapshot passed as `current` replaces the first poll", async () => {
    const grid = growingGrid(5);
    const [sampled, all] = await sampleNodes(grid as unknown as Grid, 2, 2, {
      current: [7n, 8n, 9n],
      random: () => 0,
    });
    expect(grid.calls).toBe(0);
    expect(all).toEqual([7n, 8n, 9n]);
    expect(sampled).toHaveLength(2);
  });

  test("a snapshot with too few nodes still waits by polling", async () => {
    const grid = growingGrid(3);
    const [, all] = await sampleNodes(grid as unknown as Grid, 3, 1, {
      current: [1n],
      pollIntervalMs: 1,
    });
    expect(grid.calls).toBe(1);
    expect(all).toHaveLength(3);
  });
});

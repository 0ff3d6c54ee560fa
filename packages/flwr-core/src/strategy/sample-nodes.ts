/** Node sampling (Python `sample_nodes`). */
import type { Logger } from "../app/logger.js";
import type { Grid } from "../grid/grid.js";

/** Options of {@link sampleNodes}. */
export interface SampleNodesOptions {
  /** Milliseconds between `getNodeIds()` polls while too few nodes are connected (default 250). */
  pollIntervalMs?: number;
  /** Random source in [0, 1) (default `Math.random`). */
  random?: () => number;
  /** Logger for the waiting message. */
  logger?: Logger;
  /**
   * Node ids the caller just read from `grid.getNodeIds()`: used as the first poll instead of
   * asking again (one round trip less per round over a remote Grid).
   */
  current?: readonly bigint[];
}

/**
 * Waits until at least `max(minAvailableNodes, sampleSize)` nodes are connected, then samples
 * `sampleSize` of them uniformly at random without replacement.
 *
 * Waiting polls `grid.getNodeIds()` (Flower polls once per second); the
 * `Waiting for nodes to connect` line is logged when the count changes, not on every poll.
 * @returns the sampled ids and all connected ids.
 */
export async function sampleNodes(
  grid: Grid,
  minAvailableNodes: number,
  sampleSize: number,
  options: SampleNodesOptions = {},
): Promise<[bigint[], bigint[]]> {
  const needed = Math.max(minAvailableNodes, sampleSize);
  const interval = options.pollIntervalMs ?? 250;
  let all = options.current ? [...options.current] : await grid.getNodeIds();
  let lastLogged = -1;
  while (all.length < needed) {
    if (all.length !== lastLogged) {
      options.logger?.log(
        "INFO",
        `Waiting for nodes to connect: ${all.length} connected (minimum required: ${needed}).`,
      );
      lastLogged = all.length;
    }
    await new Promise((r) => setTimeout(r, interval));
    all = await grid.getNodeIds();
  }
  const random = options.random ?? Math.random;
  const pool = [...all];
  const k = Math.min(Math.max(0, sampleSize), pool.length);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(random() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return [pool.slice(0, k), all];
}

/**
 * `simulate()`: runs a ServerApp against N in-process SuperNodes running a ClientApp — the
 * quickest way to try an app without a SuperLink (messages still pass through Flower's object
 * format, see {@link InMemoryGrid}).
 */
import type { ClientApp } from "../app/client-app.js";
import type { ServerApp } from "../app/server-app.js";
import { InMemoryGrid } from "../grid/in-memory-grid.js";
import { Context, type UserConfig } from "../message/context.js";

/** Arguments of {@link simulate}. */
export interface SimulateOptions {
  /** The ServerApp to run. */
  serverApp: ServerApp;
  /** The ClientApp every simulated node runs. */
  clientApp: ClientApp;
  /** Number of simulated nodes (SuperNodes). */
  numSupernodes: number;
  /**
   * Node configs: one object for all nodes, an array (one per node), or a function of the
   * node index. Each node also gets Flower's simulation keys `partition-id` (its index) and
   * `num-partitions` (the node count) unless the config sets them.
   */
  nodeConfigs?: UserConfig | readonly UserConfig[] | ((index: number) => UserConfig);
  /** Run config (`Context.runConfig` of the ServerApp and every node). */
  runConfig?: UserConfig;
  /** Run id (default: random). */
  runId?: bigint;
}

/** What {@link simulate} returns. */
export interface SimulationResult {
  /** The grid used (node contexts are available through `contextOf`). */
  grid: InMemoryGrid;
  /** The ServerApp's context. */
  context: Context;
}

/**
 * Runs `serverApp` to completion against `numSupernodes` in-process nodes.
 * @throws RangeError for a bad node count or a node-config array of the wrong length;
 *   rejects with what the ServerApp throws.
 */
export async function simulate(options: SimulateOptions): Promise<SimulationResult> {
  const n = options.numSupernodes;
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`numSupernodes must be a positive integer, got ${String(n)}`);
  }
  const cfg = options.nodeConfigs;
  if (Array.isArray(cfg) && cfg.length !== n) {
    throw new RangeError(
      `nodeConfigs has ${cfg.length} entries but numSupernodes is ${n}; give one config per node`,
    );
  }
  const runConfig = options.runConfig ?? {};
  const grid = new InMemoryGrid({ runId: options.runId, runConfig });
  for (let i = 0; i < n; i++) {
    const own: UserConfig =
      typeof cfg === "function"
        ? cfg(i)
        : Array.isArray(cfg)
          ? (cfg[i] as UserConfig)
          : ((cfg as UserConfig | undefined) ?? {});
    grid.addNode({
      clientApp: options.clientApp,
      nodeConfig: { "partition-id": BigInt(i), "num-partitions": BigInt(n), ...own },
    });
  }
  const context = new Context({ runId: grid.runId, nodeId: 1n, runConfig });
  await options.serverApp.run(grid, context);
  return { grid, context };
}

/**
 * What a run's `SimulationConfig` (Flower's `federation_config`: `options.num-supernodes`,
 * `options.backend.client-resources.num-cpus`, …) means for the flwr-ts engine, and the defaults
 * Flower 1.29's simulation SuperLink merges a run's overrides into
 * (`flwr.supercore.constant.DEFAULT_SIMULATION_CONFIG`, except the CPUs per ClientApp: unset
 * here, so that the pool defaults to one thread per core).
 */
import { availableParallelism } from "node:os";
import type { SimulationConfig } from "@flwr-ts/core/proto";

/** Flower 1.29's default simulation config, without `client_resources_num_cpus` (see above). */
export const DEFAULT_SIMULATION_CONFIG: SimulationConfig = {
  numSupernodes: 10,
  clientResourcesNumCpus: undefined,
  clientResourcesNumGpus: 0,
  backend: "ray",
  verbose: false,
  initArgsNumCpus: undefined,
  initArgsNumGpus: undefined,
  initArgsLoggingLevel: "WARNING",
  initArgsLogToDriver: true,
};

/** The engine settings of one simulation run. */
export interface SimulationSettings {
  /** Virtual SuperNodes. */
  readonly numSupernodes: number;
  /** Worker threads: the cores (`init-args.num-cpus`, else the machine's) ÷ CPUs per ClientApp. */
  readonly workers: number;
  /** Cores the pool may use. */
  readonly cores: number;
  /** Let the ClientApps' output through. */
  readonly verbose: boolean;
  /** The backend the config names (flwr-ts always runs its thread engine). */
  readonly backend: string;
  /** Lines to log before starting (ignored settings). */
  readonly warnings: readonly string[];
}

/**
 * Overlays the fields a run's config sets on `base` (protobuf `MergeFrom` of optional fields).
 */
export function mergeSimulationConfig(
  base: SimulationConfig,
  override: SimulationConfig | undefined,
): SimulationConfig {
  const out: SimulationConfig = { ...base };
  if (override === undefined) return out;
  for (const [key, value] of Object.entries(override) as [keyof SimulationConfig, unknown][]) {
    if (value !== undefined) (out as Record<string, unknown>)[key] = value;
  }
  return out;
}

/**
 * The engine settings of a run's simulation config.
 * @param cores - the machine's cores (default `os.availableParallelism()`).
 * @throws RangeError when `num-supernodes` is missing or not a positive integer, or a CPU count
 *   is not positive (Flower's `_run_simulation_settings` needs `num_supernodes` too).
 */
export function simulationSettings(
  config: SimulationConfig,
  cores: number = availableParallelism(),
): SimulationSettings {
  const n = config.numSupernodes;
  if (n === undefined || !Number.isInteger(n) || n < 1)
    throw new RangeError(
      `a simulation needs options.num-supernodes ≥ 1 (got ${n === undefined ? "none" : n})`,
    );
  const total = config.initArgsNumCpus ?? cores;
  if (!(total >= 1))
    throw new RangeError(`options.backend.init-args.num-cpus must be ≥ 1, got ${total}`);
  const perClient = config.clientResourcesNumCpus;
  if (perClient !== undefined && !(perClient >= 1))
    throw new RangeError(`options.backend.client-resources.num-cpus must be ≥ 1, got ${perClient}`);
  const warnings: string[] = [];
  const gpus = config.clientResourcesNumGpus ?? 0;
  if (gpus > 0)
    warnings.push(
      `options.backend.client-resources.num-gpus = ${gpus} is ignored: the flwr-ts engine schedules CPU threads only`,
    );
  const backend = config.backend ?? "ray";
  if (backend !== "ray")
    warnings.push(`backend '${backend}' is not known; the flwr-ts thread engine runs instead`);
  const workers = Math.max(1, Math.min(n, Math.floor(total / (perClient ?? 1))));
  return {
    numSupernodes: n,
    workers,
    cores: total,
    verbose: config.verbose ?? false,
    backend,
    warnings,
  };
}

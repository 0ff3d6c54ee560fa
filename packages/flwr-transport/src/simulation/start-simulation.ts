/**
 * Starts the engine for a simulation run of an installed app: reads the run's
 * `SimulationConfig`, logs what Flower's `flwr-simulation` logs (plus the pool size), and returns
 * the {@link SimulationEngine} the ServerApp uses as its Grid.
 */
import type { AppConfig, UserConfig } from "@flwr-ts/core";
import type { SimulationConfig } from "@flwr-ts/core/proto";
import { type EngineLog, SimulationEngine } from "./simulation-engine.js";
import { simulationSettings } from "./simulation-settings.js";

/** Options of {@link startSimulation}. */
export interface StartSimulationOptions {
  /** The installed app's directory. */
  readonly appDir: string;
  /** Its config (the ClientApp component). */
  readonly app: AppConfig;
  /** Root of installed apps. */
  readonly appsRoot: string;
  /** The run id. */
  readonly runId: bigint;
  /** The fused run config. */
  readonly runConfig: UserConfig;
  /** The run's simulation config (as merged by the SuperLink). */
  readonly config: SimulationConfig;
  /** Where lines go. */
  readonly log: EngineLog;
  /** Cores (default: the machine's). */
  readonly cores?: number;
}

/**
 * Starts the engine (see the module documentation).
 * @throws RangeError for an invalid config; Error when the ClientApp cannot load.
 */
export async function startSimulation(options: StartSimulationOptions): Promise<SimulationEngine> {
  const settings = simulationSettings(options.config, options.cores);
  options.log("INFO", "Starting Flower Simulation");
  for (const w of settings.warnings) options.log("WARNING", w);
  const { module, exportName } = options.app.components.clientapp;
  options.log(
    "INFO",
    `Simulation Engine: ${settings.numSupernodes} virtual SuperNodes, ${settings.workers} ClientApp worker thread(s) on ${settings.cores} core(s)`,
  );
  options.log(
    "DEBUG",
    `Flower will load ClientApp \`${module}:${exportName}\` in ${options.appDir}`,
  );
  return SimulationEngine.start({
    appDir: options.appDir,
    appsRoot: options.appsRoot,
    clientApp: { module, exportName },
    runId: options.runId,
    runConfig: options.runConfig,
    numSupernodes: settings.numSupernodes,
    workers: settings.workers,
    verbose: settings.verbose,
    log: options.log,
  });
}

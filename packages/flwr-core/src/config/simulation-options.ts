/**
 * The `options` of a simulation federation (Flower's `options.num-supernodes`,
 * `options.backend.client-resources.num-cpus`, …; 1.29's `SuperLinkSimulationOptions` in
 * `flwr/cli/typing.py`), validated and turned into the `SimulationConfig` that `flwr run` sends
 * as `StartRunRequest.override_federation_config`.
 *
 * ```json
 * "local-simulation": { "options": { "num-supernodes": 1000,
 *   "backend": { "client-resources": { "num-cpus": 1 } } } }
 * ```
 */
import { z } from "zod";
import type { SimulationConfig } from "../proto/index.js";

const positiveInt = (what: string) =>
  z
    .number({ error: `must be ${what}` })
    .int({ error: `must be ${what}` })
    .min(1, { error: `must be ${what}` });

const nonNegative = z.number({ error: "must be a number ≥ 0" }).min(0, {
  error: "must be a number ≥ 0",
});

/** Schema of a federation's `options` (unknown keys are rejected so that typos surface). */
export const simulationOptionsSchema = z.strictObject({
  "num-supernodes": positiveInt("a positive integer (the number of virtual SuperNodes)"),
  verbose: z.boolean({ error: "must be true or false" }).optional(),
  backend: z
    .strictObject({
      name: z.string({ error: "must be a string" }).min(1).optional(),
      "client-resources": z
        .strictObject({
          "num-cpus": positiveInt("a positive integer (CPUs per ClientApp)").optional(),
          "num-gpus": nonNegative.optional(),
        })
        .optional(),
      "init-args": z
        .strictObject({
          "num-cpus": positiveInt("a positive integer (CPUs of the engine)").optional(),
          "num-gpus": z.number().int().min(0).optional(),
          "logging-level": z.string().optional(),
          "log-to-driver": z.boolean().optional(),
        })
        .optional(),
    })
    .optional(),
});

/** A validated `options` value. */
export type SimulationOptions = z.infer<typeof simulationOptionsSchema>;

/** The `SimulationConfig` of validated options (unset fields stay unset). */
export function simulationConfigOf(options: SimulationOptions): SimulationConfig {
  const res = options.backend?.["client-resources"];
  const init = options.backend?.["init-args"];
  return {
    numSupernodes: options["num-supernodes"],
    clientResourcesNumCpus: res?.["num-cpus"],
    clientResourcesNumGpus: res?.["num-gpus"],
    backend: options.backend?.name,
    verbose: options.verbose,
    initArgsNumCpus: init?.["num-cpus"],
    initArgsNumGpus: init?.["num-gpus"],
    initArgsLoggingLevel: init?.["logging-level"],
    initArgsLogToDriver: init?.["log-to-driver"],
  };
}

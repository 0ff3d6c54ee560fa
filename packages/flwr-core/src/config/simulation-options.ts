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

/** Kind of each `SimulationConfig` field, by its protobuf name (what `--federation-config` takes). */
const FEDERATION_CONFIG_FIELDS = {
  num_supernodes: "count",
  client_resources_num_cpus: "count",
  client_resources_num_gpus: "number",
  backend: "string",
  verbose: "boolean",
  init_args_num_cpus: "count",
  init_args_num_gpus: "count",
  init_args_logging_level: "string",
  init_args_log_to_driver: "boolean",
} as const;

const CAMEL: Record<keyof typeof FEDERATION_CONFIG_FIELDS, keyof SimulationConfig> = {
  num_supernodes: "numSupernodes",
  client_resources_num_cpus: "clientResourcesNumCpus",
  client_resources_num_gpus: "clientResourcesNumGpus",
  backend: "backend",
  verbose: "verbose",
  init_args_num_cpus: "initArgsNumCpus",
  init_args_num_gpus: "initArgsNumGpus",
  init_args_logging_level: "initArgsLoggingLevel",
  init_args_log_to_driver: "initArgsLogToDriver",
};

/**
 * The `SimulationConfig` of `flwr run --federation-config 'num-supernodes=100 …'` (Flower 1.29's
 * `_parse_federation_config_overrides`): keys are `SimulationConfig` field names with `-` for
 * `_` (`num-supernodes`, `client-resources-num-cpus`, `init-args-num-cpus`, `backend`,
 * `verbose`, …), values parsed as TOML by `parseConfigArgs`. Unset fields stay unset; the
 * SuperLink fills them from its defaults.
 * @param overrides - the parsed `key=value` pairs.
 * @throws Error naming the key and what it must be (Flower: "Unknown simulation config
 *   field(s): …" for unknown keys).
 */
export function simulationConfigFromOverrides(
  overrides: Readonly<Record<string, unknown>>,
): SimulationConfig {
  const config: SimulationConfig = {};
  const unknown: string[] = [];
  for (const [rawKey, value] of Object.entries(overrides)) {
    const key = rawKey.replaceAll("-", "_");
    if (!Object.hasOwn(FEDERATION_CONFIG_FIELDS, key)) {
      unknown.push(key);
      continue;
    }
    const field = key as keyof typeof FEDERATION_CONFIG_FIELDS;
    const kind = FEDERATION_CONFIG_FIELDS[field];
    const target = config as Record<string, unknown>;
    const name = CAMEL[field];
    if (kind === "count") {
      const n = typeof value === "bigint" ? Number(value) : Number.NaN;
      const least = field === "num_supernodes" ? 1 : 0;
      if (!Number.isSafeInteger(n) || n < least || n > 0xffffffff) {
        throw new Error(`"${rawKey}" must be an integer ≥ ${least}, got ${String(value)}`);
      }
      target[name] = n;
    } else if (kind === "number") {
      const n = typeof value === "bigint" ? Number(value) : value;
      if (typeof n !== "number" || !Number.isFinite(n) || n < 0) {
        throw new Error(`"${rawKey}" must be a number ≥ 0, got ${String(value)}`);
      }
      target[name] = n;
    } else if (kind === "boolean") {
      if (typeof value !== "boolean") {
        throw new Error(`"${rawKey}" must be true or false, got ${String(value)}`);
      }
      target[name] = value;
    } else {
      if (typeof value !== "string" || value === "") {
        throw new Error(`"${rawKey}" must be a non-empty string in quotes, got ${String(value)}`);
      }
      target[name] = value;
    }
  }
  if (unknown.length > 0) {
    throw new Error(
      `Unknown simulation config field(s): ${unknown.sort().join(", ")} (known: ${Object.keys(
        FEDERATION_CONFIG_FIELDS,
      )
        .map((k) => k.replaceAll("_", "-"))
        .join(", ")})`,
    );
  }
  return config;
}

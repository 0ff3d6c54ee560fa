/**
 * Typed reads of the run config (`package.json` `flwr.app.config`, overridable with
 * `flwr run --run-config`) and the node config (`flower-supernode --node-config`), with errors
 * that name the key and say what to write instead.
 */
import type { ConfigRecord, UserConfig } from "@flwr-ts/core";

/** A missing or mistyped config value. */
export class ConfigValueError extends Error {
  /**
   * @param key - the offending key.
   * @param message - what is wrong and what to do.
   */
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(message);
    this.name = "ConfigValueError";
  }
}

type Source = UserConfig | ConfigRecord;

function read(config: Source, key: string, where: string): unknown {
  const value = config instanceof Map ? config.get(key) : config[key];
  if (value === undefined) {
    throw new ConfigValueError(key, `${where} has no "${key}"; set it (e.g. ${hint(key)})`);
  }
  return value;
}

function hint(key: string): string {
  if (key === "dataset-path")
    return `flower-supernode --node-config 'dataset-path="datasets/cifar10_part_1"'`;
  return `in package.json "flwr.app.config", or flwr run --run-config '${key}=…'`;
}

/**
 * A positive integer (`bigint` in configs; a whole `number` is accepted too).
 * @throws ConfigValueError when absent, not an integer, or below 1.
 */
export function positiveInt(config: Source, key: string, where = "the run config"): number {
  const value = read(config, key, where);
  const n = typeof value === "bigint" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 1) {
    throw new ConfigValueError(
      key,
      `${where}: "${key}" must be a positive integer, got ${describe(value)}`,
    );
  }
  return n;
}

/**
 * A non-negative integer such as Flower's `partition-id` (`bigint` in configs; a whole `number`
 * is accepted too).
 * @throws ConfigValueError when absent, not an integer, or negative.
 */
export function nonNegativeInt(config: Source, key: string, where = "the run config"): number {
  const value = read(config, key, where);
  const n = typeof value === "bigint" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) {
    throw new ConfigValueError(
      key,
      `${where}: "${key}" must be a non-negative integer, got ${describe(value)}`,
    );
  }
  return n;
}

/**
 * A finite number (floats are `number`; an integer `bigint` is accepted and converted).
 * @throws ConfigValueError when absent, not a number, or outside [min, max].
 */
export function numberIn(
  config: Source,
  key: string,
  min: number,
  max: number,
  where = "the run config",
): number {
  const value = read(config, key, where);
  const n = typeof value === "bigint" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isFinite(n) || n < min || n > max) {
    throw new ConfigValueError(
      key,
      `${where}: "${key}" must be a number in [${min}, ${max}], got ${describe(value)}`,
    );
  }
  return n;
}

/**
 * A non-empty string.
 * @throws ConfigValueError when absent or not a non-empty string.
 */
export function nonEmptyString(config: Source, key: string, where = "the run config"): string {
  const value = read(config, key, where);
  if (typeof value !== "string" || value === "") {
    throw new ConfigValueError(
      key,
      `${where}: "${key}" must be a non-empty string, got ${describe(value)} (${hint(key)})`,
    );
  }
  return value;
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value} (integer)`;
  if (typeof value === "number") return `${value} (float)`;
  if (value instanceof Uint8Array) return "bytes";
  return String(value);
}

/**
 * Run config: the app's config defaults merged with `--run-config` overrides (Python
 * Flower's `parse_config_args` + `fuse_dicts`).
 *
 * Overrides are `'k=v k2="s"'` strings with TOML values (repeatable) or a single `.toml` file.
 * As in Flower, an override key that is not among the defaults is rejected with
 * `Key 'x' is not present in the main dictionary`, and an override may change a value's type
 * (`num-server-rounds=2.5` is accepted; the ServerApp sees a float).
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parse, TomlError } from "smol-toml";
import type { UserConfig } from "../message/context.js";
import type { AppConfig } from "./app-config.js";
import { ConfigArgsError, flattenConfig, parseConfigArgs } from "./parse-config-args.js";

/** An override names a key the app's config does not define. */
export class UnknownConfigKeyError extends Error {
  /** The unknown key. */
  readonly key: string;

  /** @param key - the unknown key. */
  constructor(key: string) {
    super(`Key '${key}' is not present in the main dictionary`);
    this.name = "UnknownConfigKeyError";
    this.key = key;
  }
}

/** Options of {@link parseRunConfigArgs}. */
export interface ParseRunConfigOptions {
  /** Directory a relative `.toml` path is resolved against (default `process.cwd()`). */
  cwd?: string;
}

/**
 * Parses `--run-config` values: `key=value` strings with TOML values, or exactly one path to a
 * `.toml` file whose (possibly nested) tables are flattened into dotted keys.
 * @throws ConfigArgsError for malformed strings, an unreadable or invalid TOML file, or a
 *   `.toml` path given together with other values.
 */
export function parseRunConfigArgs(
  args: readonly string[],
  options: ParseRunConfigOptions = {},
): UserConfig {
  const nonEmpty = args.filter((a) => a.trim() !== "");
  if (nonEmpty.length === 1 && nonEmpty[0]!.trim().endsWith(".toml")) {
    const file = resolve(options.cwd ?? process.cwd(), nonEmpty[0]!.trim());
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      throw new ConfigArgsError(
        `cannot read run config file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      );
    }
    let table: Record<string, unknown>;
    try {
      table = parse(text, { integersAsBigInt: true }) as Record<string, unknown>;
    } catch (err) {
      const detail = err instanceof TomlError ? err.message.split("\n")[0] : String(err);
      throw new ConfigArgsError(`run config file ${file} is not valid TOML: ${detail}`);
    }
    return flattenConfig(table);
  }
  if (nonEmpty.some((a) => a.trim().endsWith(".toml"))) {
    throw new ConfigArgsError("TOML files cannot be passed alongside key-value pairs.");
  }
  return parseConfigArgs(nonEmpty);
}

/**
 * Merges overrides into defaults (Python `fuse_dicts` on flat configs).
 * @param checkKeys - reject keys missing from `defaults` (default true, as Flower's StartRun).
 * @throws UnknownConfigKeyError for an override key not present in `defaults`.
 */
export function fuseConfig(
  defaults: UserConfig,
  overrides: UserConfig,
  checkKeys = true,
): UserConfig {
  const out: UserConfig = Object.create(null);
  Object.assign(out, defaults);
  for (const [k, v] of Object.entries(overrides)) {
    if (Object.hasOwn(defaults, k)) out[k] = v;
    else if (checkKeys) throw new UnknownConfigKeyError(k);
  }
  return out;
}

/**
 * The run config of an app run: its `flwr.app.config` defaults (flattened) with the
 * `--run-config` overrides applied.
 * @throws ConfigArgsError / UnknownConfigKeyError as {@link parseRunConfigArgs} and
 *   {@link fuseConfig}.
 */
export function resolveRunConfig(
  app: Pick<AppConfig, "config">,
  runConfigArgs: readonly string[] = [],
  options: ParseRunConfigOptions = {},
): UserConfig {
  return fuseConfig(app.config, parseRunConfigArgs(runConfigArgs, options));
}

/**
 * Parsing `--node-config` / `--run-config` strings: space-separated `key=value` pairs whose
 * values are TOML values, e.g. `dataset-path="datasets/cifar10_part_1" partition-id=0 lr=0.1`
 * (Python Flower's `parse_config_args`). Dotted keys and TOML tables are flattened to dotted
 * keys (`a.b=1` → `"a.b": 1n`).
 */
import { parse, TomlError } from "smol-toml";
import type { UserConfig } from "../message/context.js";

/** A config string that is not a list of `key=value` pairs with TOML values. */
export class ConfigArgsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigArgsError";
  }
}

const FORMAT_HINT =
  "expected space-separated key=value pairs with TOML values, e.g. " +
  `'key1=123 key2=false key3="string" key4=0.5'`;

/** Python Flower's pair pattern: a key, `=`, then a quoted string or a run of non-spaces. */
const PAIR = /(\S+?)=('[^']*'|"[^"]*"|\S+)/g;

function isPlainTable(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== "object") return false;
  const proto = Object.getPrototypeOf(v);
  return proto === null || proto === Object.prototype;
}

/**
 * Flattens a parsed TOML table into dotted keys, checking that every value is a config scalar.
 * @throws ConfigArgsError for arrays, dates and other non-scalar values.
 */
export function flattenConfig(table: Record<string, unknown>, prefix = ""): UserConfig {
  const out: UserConfig = Object.create(null);
  for (const [k, v] of Object.entries(table)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === "bigint" || typeof v === "boolean" || typeof v === "string") out[key] = v;
    else if (typeof v === "number") out[key] = v;
    else if (isPlainTable(v)) {
      Object.assign(out, flattenConfig(v, key));
    } else {
      throw new ConfigArgsError(
        `the value of '${key}' must be an integer, float, boolean or string (or a table of those)`,
      );
    }
  }
  return out;
}

/**
 * Parses config strings such as `--node-config` values into a flat {@link UserConfig}.
 * Integers become `bigint`, floats `number`. Later strings override earlier keys.
 * @param args - one or more config strings (empty strings are ignored).
 * @throws ConfigArgsError with a one-line message for text that is not `key=value` pairs,
 *   values that are not valid TOML, duplicate keys within one string, or non-scalar values.
 */
export function parseConfigArgs(args: readonly string[]): UserConfig {
  let merged: Record<string, unknown> = Object.create(null);
  for (const arg of args) {
    if (arg.trim() === "") continue;
    const pairs = [...arg.matchAll(PAIR)];
    const leftover = arg.replace(PAIR, "").trim();
    if (pairs.length === 0 || leftover !== "") {
      const bad = leftover || arg.trim();
      throw new ConfigArgsError(`invalid config '${bad}': ${FORMAT_HINT}`);
    }
    const toml = pairs.map((m) => `${m[1]} = ${m[2]}`).join("\n");
    let table: Record<string, unknown>;
    try {
      table = parse(toml, { integersAsBigInt: true, unsafeKeyBehaviour: "throw" }) as Record<
        string,
        unknown
      >;
    } catch (err) {
      const detail = err instanceof TomlError ? err.message.split("\n")[0] : String(err);
      throw new ConfigArgsError(`invalid config '${arg.trim()}' (${detail}): ${FORMAT_HINT}`);
    }
    merged = { ...merged, ...table };
  }
  return flattenConfig(merged);
}

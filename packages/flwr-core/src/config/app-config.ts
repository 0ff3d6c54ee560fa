/**
 * The app section of a flwr-ts app's `package.json` — the counterpart of Python Flower's
 * `[project]` + `[tool.flwr.app]` in `pyproject.toml`:
 *
 * ```json
 * {
 *   "name": "authexample",
 *   "version": "1.0.0",
 *   "flwr": {
 *     "app": {
 *       "publisher": "flwrlabs",
 *       "components": { "serverapp": "src/server-app.ts:app", "clientapp": "src/client-app.ts:app" },
 *       "config": { "num-server-rounds": 3, "fraction-evaluate": 0.5, "learning-rate": 0.1 }
 *     },
 *     "federations": { … }
 *   }
 * }
 * ```
 *
 * - **Name and version** come from the package's `name` (an npm scope such as `@acme/` is
 *   dropped) and `version`; `flwr.app.name` overrides the name. The name must be a valid
 *   Flower app name (a letter, then letters, digits or hyphens; at most 32 characters).
 * - **Components** are `<module file>:<export>` (Flower's `module:attribute`), the module being
 *   a path relative to the app directory (`.ts`, `.mts`, `.js` or `.mjs`).
 * - **Config** values are flattened into dotted keys for nested objects, like Flower.
 *
 * **Integers and floats in JSON config.** JSON has one number type, so the rule is: a number
 * written without a fraction or exponent that is a whole number is an **integer** (`bigint`),
 * anything else a **float** (`number`): `3` → int, `0.5` → float. JavaScript cannot tell
 * `1.0` from `1` after `JSON.parse`, so `1.0` is an integer too: write `{ "$float": 1 }` for a
 * whole-number float, and `{ "$int": "12345678901234567890" }` for an integer beyond 2^53.
 * `federations` is validated separately (`resolveFederation`).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import type { UserConfig } from "../message/context.js";
import type { Scalar } from "../records/scalar.js";

/** A problem in the `flwr` section of a package.json; `key` names the offending key. */
export class AppConfigError extends Error {
  /** Dotted path of the offending key, e.g. `flwr.app.components.serverapp`. */
  readonly key: string;

  /**
   * @param key - dotted path of the offending key.
   * @param message - what is wrong and what to do.
   */
  constructor(key: string, message: string) {
    super(message);
    this.name = "AppConfigError";
    this.key = key;
  }
}

/** A component reference, `<module>:<export>`. */
export interface ComponentRef {
  /** The reference as written, e.g. `src/server-app.ts:app`. */
  readonly ref: string;
  /** Module path relative to the app directory, e.g. `src/server-app.ts`. */
  readonly module: string;
  /** Export name, possibly dotted (`wrapper.app`), e.g. `app`. */
  readonly exportName: string;
}

/** A nested config value as written (integers `bigint`, floats `number`). */
export type ConfigTree = { [key: string]: Scalar | ConfigTree };

/** The validated app configuration. */
export interface AppConfig {
  /** App (project) name. */
  readonly name: string;
  /** App version. */
  readonly version: string;
  /** Publisher. */
  readonly publisher: string;
  /** FAB id: `<publisher>/<name>`. */
  readonly fabId: string;
  /** Package description, if any. */
  readonly description: string | undefined;
  /** Package license (SPDX string), if any. */
  readonly license: string | undefined;
  /** The ServerApp and ClientApp references. */
  readonly components: { readonly serverapp: ComponentRef; readonly clientapp: ComponentRef };
  /** The config defaults as written (nested), with typed scalars. */
  readonly configTree: ConfigTree;
  /** The config defaults flattened to dotted keys (the run config before overrides). */
  readonly config: UserConfig;
  /** `fab-include` patterns (gitignore-style), if given. */
  readonly fabInclude: readonly string[] | undefined;
  /** `fab-exclude` patterns (gitignore-style), if given. */
  readonly fabExclude: readonly string[] | undefined;
}

const APP_NAME = /^\p{L}[\p{L}\p{N}-]*$/u;
const PUBLISHER = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const ATTRIBUTE = /^[\p{L}_$][\p{L}\p{N}_$]*(\.[\p{L}_$][\p{L}\p{N}_$]*)*$/u;
const MODULE_EXT = /\.(ts|mts|js|mjs)$/;
/** Maximum length of an app name (Flower's `MAX_NAME_LENGTH`). */
export const MAX_APP_NAME_LENGTH = 32;

/**
 * Checks a Flower app name (Python `is_valid_name`).
 * @returns undefined when valid, else why not.
 */
export function appNameProblem(name: string): string | undefined {
  if (name === "") return "Cannot be empty.";
  if ([...name].length > MAX_APP_NAME_LENGTH)
    return `Must be no longer than ${MAX_APP_NAME_LENGTH} characters.`;
  if (!/^\p{L}/u.test(name)) return "Must start with a letter.";
  if (!APP_NAME.test(name)) return "Can only contain letters, digits, and hyphens.";
  return undefined;
}

/**
 * Parses a component reference `<module>:<export>`.
 * @throws AppConfigError naming `key` when malformed.
 */
export function parseComponentRef(ref: string, key: string): ComponentRef {
  const colon = ref.lastIndexOf(":");
  const module = colon < 0 ? ref : ref.slice(0, colon);
  const exportName = colon < 0 ? "" : ref.slice(colon + 1);
  const example = `e.g. "src/${key.endsWith("serverapp") ? "server" : "client"}-app.ts:app"`;
  if (module === "" || exportName === "") {
    throw new AppConfigError(
      key,
      `'${key}' is "${ref}"; it must be "<module file>:<export name>", ${example}`,
    );
  }
  if (!ATTRIBUTE.test(exportName)) {
    throw new AppConfigError(key, `'${key}': "${exportName}" is not a valid export name`);
  }
  const parts = module.split("/");
  if (
    module.startsWith("/") ||
    module.includes("\\") ||
    /^[A-Za-z]:/.test(module) ||
    parts.some((p) => p === ".." || p === "")
  ) {
    throw new AppConfigError(
      key,
      `'${key}': module "${module}" must be a relative path inside the app directory, ${example}`,
    );
  }
  if (!MODULE_EXT.test(module)) {
    throw new AppConfigError(
      key,
      `'${key}': module "${module}" must be a .ts, .mts, .js or .mjs file, ${example}`,
    );
  }
  return { ref, module: module.replace(/^\.\//, ""), exportName };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === null || proto === Object.prototype;
}

/**
 * Converts one JSON config value to a typed scalar (see the module's int/float rule).
 * @returns a scalar, or undefined when `v` is a nested table.
 * @throws AppConfigError for lists, null and malformed typed values.
 */
export function jsonConfigValue(v: unknown, key: string): Scalar | undefined {
  if (typeof v === "boolean" || typeof v === "string") return v;
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new AppConfigError(key, `'${key}' must be a finite number`);
    if (!Number.isInteger(v)) return v;
    if (!Number.isSafeInteger(v)) {
      throw new AppConfigError(
        key,
        `'${key}': ${v} is beyond 2^53 and may have lost precision in JSON; ` +
          `write { "$int": "<digits>" } for a large integer or { "$float": ${v} } for a float`,
      );
    }
    return BigInt(v);
  }
  if (isPlainObject(v)) {
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === "$float") {
      const f = v["$float"];
      if (typeof f !== "number" || !Number.isFinite(f)) {
        throw new AppConfigError(key, `'${key}': "$float" must hold a finite number`);
      }
      return f;
    }
    if (keys.length === 1 && keys[0] === "$int") {
      const i = v["$int"];
      if (typeof i === "number" && Number.isSafeInteger(i)) return BigInt(i);
      if (typeof i === "string" && /^-?\d+$/.test(i)) {
        const b = BigInt(i);
        if (b < -(1n << 63n) || b >= 1n << 63n) {
          throw new AppConfigError(key, `'${key}': ${i} does not fit a 64-bit signed integer`);
        }
        return b;
      }
      throw new AppConfigError(key, `'${key}': "$int" must hold an integer or a string of digits`);
    }
    if (keys.some((k) => k.startsWith("$"))) {
      throw new AppConfigError(
        key,
        `'${key}' has an unknown typed value; use { "$float": <number> } or { "$int": "<digits>" }`,
      );
    }
    return undefined;
  }
  const what = v === null ? "null" : Array.isArray(v) ? "a list" : typeof v;
  throw new AppConfigError(
    key,
    `'${key}' is ${what}; config values must be integers, floats, booleans or strings (or objects of those)`,
  );
}

function convertTree(raw: Record<string, unknown>, path: string): ConfigTree {
  const out: ConfigTree = Object.create(null);
  for (const [k, v] of Object.entries(raw)) {
    const key = `${path}.${k}`;
    if (k === "" || k.includes(".")) {
      throw new AppConfigError(
        key,
        `config key "${k}" in '${path}' must be non-empty and must not contain "."; nest objects instead`,
      );
    }
    const scalar = jsonConfigValue(v, key);
    out[k] = scalar === undefined ? convertTree(v as Record<string, unknown>, key) : scalar;
  }
  return out;
}

/** Flattens a config tree into dotted keys (Python `flatten_dict`). */
export function flattenConfigTree(tree: ConfigTree, prefix = ""): UserConfig {
  const out: UserConfig = Object.create(null);
  for (const [k, v] of Object.entries(tree)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === "object" && !(v instanceof Uint8Array)) {
      Object.assign(out, flattenConfigTree(v, key));
    } else out[key] = v;
  }
  return out;
}

const patterns = (key: string) =>
  z
    .array(
      z
        .string()
        .trim()
        .min(1, { error: `'${key}' entries must be non-empty strings` }),
      {
        error: `'${key}' must be a list of strings`,
      },
    )
    .min(1, {
      error: `'${key}' must not be an empty list; remove the key to use the built-in defaults`,
    })
    .optional();

const appSchema = z.strictObject({
  publisher: z.string({
    error: (i) =>
      i.input === undefined
        ? 'is required (who publishes the app, e.g. "flwrlabs")'
        : "must be a string",
  }),
  name: z.string({ error: "must be a string" }).optional(),
  components: z.strictObject(
    {
      serverapp: z.string({
        error: (i) =>
          i.input === undefined ? 'is required, e.g. "src/server-app.ts:app"' : "must be a string",
      }),
      clientapp: z.string({
        error: (i) =>
          i.input === undefined ? 'is required, e.g. "src/client-app.ts:app"' : "must be a string",
      }),
    },
    {
      error: (i) =>
        i.input === undefined
          ? 'is required: { "serverapp": "<module>:<export>", "clientapp": "<module>:<export>" }'
          : "must be an object",
    },
  ),
  config: z.record(z.string(), z.unknown(), { error: "must be an object" }).optional(),
  "fab-include": patterns("fab-include"),
  "fab-exclude": patterns("fab-exclude"),
});

const packageSchema = z.object({
  name: z.string({ error: "must be a string" }).optional(),
  version: z.string({
    error: (i) => (i.input === undefined ? 'is required, e.g. "1.0.0"' : "must be a string"),
  }),
  description: z.string().optional().catch(undefined),
  license: z.string().optional().catch(undefined),
  flwr: z.object(
    { app: appSchema, federations: z.unknown().optional() },
    {
      error: (i) =>
        i.input === undefined
          ? 'is required: add "flwr": { "app": { "publisher": …, "components": { … } } }'
          : "must be an object",
    },
  ),
});

/**
 * Validates a parsed `package.json` and returns the app configuration.
 * @param packageJson - the parsed package.json.
 * @param source - file name for messages (default `package.json`).
 * @throws AppConfigError naming the bad key and saying what to write instead.
 */
export function parseAppConfig(packageJson: unknown, source = "package.json"): AppConfig {
  const parsed = packageSchema.safeParse(packageJson);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.map(String).join(".");
    if (issue.code === "unrecognized_keys") {
      const where = path || "(top level)";
      throw new AppConfigError(
        `${path}.${issue.keys[0]}`,
        `${source}: '${where}' has unknown key(s) ${issue.keys.map((k) => `'${k}'`).join(", ")}`,
      );
    }
    throw new AppConfigError(path, `${source}: '${path || "(top level)"}' ${issue.message}`);
  }
  const pkg = parsed.data;
  const app = pkg.flwr.app;
  const fail = (key: string, message: string): never => {
    throw new AppConfigError(key, `${source}: ${message}`);
  };

  const rawName = app.name ?? pkg.name;
  if (rawName === undefined) {
    fail("name", `'name' is required (or set 'flwr.app.name')`);
  }
  const nameKey = app.name !== undefined ? "flwr.app.name" : "name";
  const name = (rawName as string).replace(/^@[^/]+\//, "");
  const nameProblem = appNameProblem(name);
  if (nameProblem) {
    fail(
      nameKey,
      `'${nameKey}': app name "${name}" is invalid: ${nameProblem} ` +
        `A valid app name starts with a letter and contains only letters, digits and hyphens` +
        (app.name === undefined
          ? "; set 'flwr.app.name' to use another name than the package's"
          : ""),
    );
  }
  const version = pkg.version.trim();
  if (version === "" || /[\s/\\,:]/.test(version)) {
    fail("version", `'version' "${pkg.version}" is invalid; use e.g. "1.0.0"`);
  }
  if (!PUBLISHER.test(app.publisher)) {
    fail(
      "flwr.app.publisher",
      `'flwr.app.publisher' "${app.publisher}" is invalid; use letters, digits, '-' and '_' (e.g. "flwrlabs")`,
    );
  }
  let configTree: ConfigTree;
  try {
    configTree = convertTree(app.config ?? {}, "flwr.app.config");
  } catch (err) {
    if (err instanceof AppConfigError) fail(err.key, err.message);
    throw err;
  }
  return {
    name,
    version,
    publisher: app.publisher,
    fabId: `${app.publisher}/${name}`,
    description: pkg.description,
    license: pkg.license,
    components: {
      serverapp: wrapRef(app.components.serverapp, "flwr.app.components.serverapp", source),
      clientapp: wrapRef(app.components.clientapp, "flwr.app.components.clientapp", source),
    },
    configTree: configTree!,
    config: flattenConfigTree(configTree!),
    fabInclude: app["fab-include"],
    fabExclude: app["fab-exclude"],
  };
}

function wrapRef(ref: string, key: string, source: string): ComponentRef {
  try {
    return parseComponentRef(ref, key);
  } catch (err) {
    if (err instanceof AppConfigError) throw new AppConfigError(key, `${source}: ${err.message}`);
    throw err;
  }
}

/**
 * Reads and validates `<appDir>/package.json`.
 * @throws AppConfigError when the file is missing, not JSON, or invalid.
 */
export function loadAppConfig(appDir: string): AppConfig {
  const file = join(appDir, "package.json");
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new AppConfigError(
      "package.json",
      `${file} not found: a flwr-ts app directory needs a package.json with a "flwr" section`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new AppConfigError(
      "package.json",
      `${file} is not valid JSON: ${(err as Error).message}`,
    );
  }
  return parseAppConfig(json, file);
}

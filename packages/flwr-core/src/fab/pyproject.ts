/**
 * The `pyproject.toml` a flwr-ts FAB carries first, generated from the app's `package.json` so
 * that Python SuperLinks and SuperNodes accept the FAB: `[project] name, version,
 * dependencies = []`, `[tool.flwr.app] publisher`, `[tool.flwr.app.components]` and
 * `[tool.flwr.app.config]` (ints stay TOML integers, floats TOML floats). Formatting follows
 * `tomli_w`, which Python's `flwr build` uses.
 *
 * Why hand-written: this file's bytes go into the FAB and so into its hash, which must equal
 * what Python's `flwr build` produces for the same app; TOML libraries (smol-toml, which reads
 * TOML elsewhere here, @iarna/toml) format tables, quoting, arrays and floats their own way.
 * Reading TOML uses the library.
 */
import type { AppConfig, ConfigTree } from "../config/app-config.js";
import type { Scalar } from "../records/scalar.js";
import { pyFloatRepr } from "../strategy/py-format.js";

type TomlValue = Scalar | readonly string[] | TomlTable;
interface TomlTable {
  [key: string]: TomlValue;
}

const BARE_KEY = /^[A-Za-z0-9_-]+$/;

function tomlString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\b") out += "\\b";
    else if (ch === "\f") out += "\\f";
    else if (c < 0x20 || c === 0x7f) out += `\\u${c.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return `${out}"`;
}

function tomlKey(k: string): string {
  return BARE_KEY.test(k) ? k : tomlString(k);
}

function tomlScalar(v: TomlValue): string {
  if (typeof v === "string") return tomlString(v);
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number") return pyFloatRepr(v);
  if (typeof v === "boolean") return v ? "true" : "false";
  if (Array.isArray(v)) return `[${v.map((x) => tomlString(x)).join(", ")}]`;
  throw new TypeError("bytes cannot be written to TOML");
}

function isTable(v: TomlValue): v is TomlTable {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/**
 * Serializes nested tables as `tomli_w` does (scalars first, then sub-tables).
 * @internal Used by {@link generatePyproject}.
 */
export function tomlStringify(table: TomlTable): string {
  const blocks: string[] = [];
  const emit = (t: TomlTable, path: string[]) => {
    const lines: string[] = [];
    for (const [k, v] of Object.entries(t)) {
      if (!isTable(v)) lines.push(`${tomlKey(k)} = ${tomlScalar(v)}`);
    }
    if (path.length === 0 || lines.length > 0) {
      const header = path.length > 0 ? `[${path.map(tomlKey).join(".")}]\n` : "";
      if (header || lines.length > 0) blocks.push(header + lines.map((l) => `${l}\n`).join(""));
    }
    for (const [k, v] of Object.entries(t)) if (isTable(v)) emit(v, [...path, k]);
  };
  emit(table, []);
  return blocks.filter((b) => b !== "").join("\n");
}

/** The `pyproject.toml` text for an app (see the module documentation). */
export function generatePyproject(app: AppConfig): string {
  const project: TomlTable = { name: app.name, version: app.version };
  if (app.description !== undefined) project["description"] = app.description;
  if (app.license !== undefined) project["license"] = app.license;
  project["dependencies"] = [];
  const appTable: TomlTable = { publisher: app.publisher };
  if (app.fabInclude !== undefined) appTable["fab-include"] = app.fabInclude;
  if (app.fabExclude !== undefined) appTable["fab-exclude"] = app.fabExclude;
  appTable["components"] = {
    serverapp: app.components.serverapp.ref,
    clientapp: app.components.clientapp.ref,
  };
  appTable["config"] = app.configTree as ConfigTree as TomlTable;
  return tomlStringify({ project, tool: { flwr: { app: appTable } } });
}

/**
 * Reading and verifying FABs from any source (ours or Python's `flwr build`): size cap, hash,
 * zip structure, safe entry names, the `.info/CONTENT` manifest (every file listed once with
 * matching SHA-256 and size in bits, nothing unlisted) and the `pyproject.toml` fields Flower
 * requires (Python `validate_fields_in_config`).
 */
import { parse, TomlError } from "smol-toml";
import { flattenConfig } from "../config/parse-config-args.js";
import type { UserConfig } from "../message/context.js";
import { FAB_CONTENT_PATH, sha256Hex } from "./build.js";
import { FabError } from "./errors.js";
import { FAB_MAX_SIZE } from "./fab-id.js";
import { readZip, readZipAsync, type ZipEntry } from "./zip.js";

/** A FAB's contents after verification. */
export interface FabContents {
  /** SHA-256 hex of the FAB. */
  readonly hash: string;
  /** `<publisher>/<name>`. */
  readonly fabId: string;
  /** `[project] version`. */
  readonly fabVersion: string;
  /** Publisher. */
  readonly publisher: string;
  /** App name. */
  readonly name: string;
  /** `[tool.flwr.app.components]`: `serverapp` and `clientapp` references. */
  readonly components: { readonly serverapp: string; readonly clientapp: string };
  /** `[tool.flwr.app.config]` flattened (ints `bigint`, floats `number`). */
  readonly config: UserConfig;
  /** The parsed `pyproject.toml`. */
  readonly pyproject: Record<string, unknown>;
  /** Every file except `.info/CONTENT`, by path, in archive order. */
  readonly files: ReadonlyMap<string, Uint8Array>;
}

/**
 * Checks a FAB's SHA-256.
 * @throws FabError (`hash-mismatch`) when it differs from `expectedHash`.
 */
export function verifyFab(bytes: Uint8Array, expectedHash: string): void {
  const actual = sha256Hex(bytes);
  if (actual !== expectedHash.toLowerCase()) {
    throw new FabError(
      "hash-mismatch",
      `FAB hash mismatch: expected ${expectedHash} but the FAB's SHA-256 is ${actual}`,
    );
  }
}

function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function safeName(name: string): boolean {
  if (name === "" || name.startsWith("/") || name.includes("\\") || /^[A-Za-z]:/.test(name)) {
    return false;
  }
  return !name.split("/").some((p) => p === ".." || p === ".");
}

/** Validates the Flower fields of a parsed pyproject; returns the problems (Flower's wording). */
export function pyprojectProblems(config: Record<string, unknown>): string[] {
  const errors: string[] = [];
  const project = config["project"];
  if (!isTable(project)) errors.push("Missing [project] section");
  else {
    if (typeof project["name"] !== "string") errors.push('Property "name" missing in [project]');
    if (typeof project["version"] !== "string")
      errors.push('Property "version" missing in [project]');
  }
  const tool = config["tool"];
  const app = isTable(tool) && isTable(tool["flwr"]) ? tool["flwr"]["app"] : undefined;
  if (!isTable(app)) errors.push("Missing [tool.flwr.app] section");
  else {
    if (typeof app["publisher"] !== "string")
      errors.push('Property "publisher" missing in [tool.flwr.app]');
    const components = app["components"];
    if (!isTable(components)) errors.push("Missing [tool.flwr.app.components] section");
    else {
      for (const c of ["serverapp", "clientapp"]) {
        const ref = components[c];
        if (typeof ref !== "string")
          errors.push(`Property "${c}" missing in [tool.flwr.app.components]`);
        else if (!/^[^:]+:.+$/.test(ref))
          errors.push(`Invalid ${c} reference "${ref}": expected "<module>:<attribute>"`);
      }
    }
    if (app["config"] !== undefined && !isTable(app["config"]))
      errors.push("[tool.flwr.app.config] must be a table");
  }
  return errors;
}

/** Options of {@link readFab}. */
export interface ReadFabOptions {
  /** When given, the FAB's SHA-256 must equal it. */
  expectedHash?: string;
  /** Maximum size in bytes (default 10 MiB). */
  maxSize?: number;
}

/**
 * Reads and fully verifies a FAB (see the module documentation).
 * @throws FabError with a code saying what is wrong.
 */
export function readFab(bytes: Uint8Array, options: ReadFabOptions = {}): FabContents {
  const hash = checkFabBytes(bytes, options);
  return verifyEntries(hash, readZip(bytes));
}

/**
 * {@link readFab} with the archive inflated on libuv's thread pool (`readZipAsync`), for servers
 * (the SuperLink's StartRun) that must keep answering while a FAB is read.
 * @throws FabError with a code saying what is wrong.
 */
export async function readFabAsync(
  bytes: Uint8Array,
  options: ReadFabOptions = {},
): Promise<FabContents> {
  const hash = checkFabBytes(bytes, options);
  return verifyEntries(hash, await readZipAsync(bytes));
}

/** Size cap and expected hash; returns the FAB's SHA-256. */
function checkFabBytes(bytes: Uint8Array, options: ReadFabOptions): string {
  const max = options.maxSize ?? FAB_MAX_SIZE;
  if (bytes.length > max) {
    throw new FabError(
      "too-large",
      `FAB size ${bytes.length} bytes exceeds the maximum allowed size of ${max} bytes`,
    );
  }
  if (options.expectedHash !== undefined) verifyFab(bytes, options.expectedHash);
  return sha256Hex(bytes);
}

/** Entry names, the manifest and `pyproject.toml` of a read archive. */
function verifyEntries(hash: string, entries: readonly ZipEntry[]): FabContents {
  const files = new Map<string, Uint8Array>();
  let manifestBytes: Uint8Array | undefined;
  for (const e of entries) {
    if (e.name.endsWith("/")) continue; // directory entries carry no data
    if (!safeName(e.name)) {
      throw new FabError("unsafe-path", `Unsafe path in FAB archive: ${e.name}`);
    }
    if (files.has(e.name) || (e.name === FAB_CONTENT_PATH && manifestBytes !== undefined)) {
      throw new FabError("unsafe-path", `FAB archive lists ${e.name} twice`);
    }
    if (e.name === FAB_CONTENT_PATH) manifestBytes = e.data;
    else files.set(e.name, e.data);
  }
  if (manifestBytes === undefined) {
    throw new FabError("bad-manifest", "FAB file has incorrect format: .info/CONTENT is missing");
  }
  let manifest: string;
  try {
    manifest = new TextDecoder("utf-8", { fatal: true }).decode(manifestBytes);
  } catch {
    throw new FabError("bad-manifest", ".info/CONTENT is not valid UTF-8");
  }
  const listed = new Set<string>();
  for (const line of manifest.trim().split("\n")) {
    const parts = line.split(",");
    if (parts.length !== 3 || !/^[0-9a-f]{64}$/.test(parts[1]!) || !/^\d+$/.test(parts[2]!)) {
      throw new FabError(
        "bad-manifest",
        `.info/CONTENT line "${line}" is not "<path>,<sha256 hex>,<size in bits>"`,
      );
    }
    const [path, sha, bits] = parts as [string, string, string];
    const data = files.get(path);
    if (data === undefined) {
      throw new FabError(
        "manifest-mismatch",
        `File hashes couldn't be verified: ${path} is listed but missing`,
      );
    }
    if (sha256Hex(data) !== sha) {
      throw new FabError(
        "manifest-mismatch",
        `File hashes couldn't be verified: ${path} has a different SHA-256`,
      );
    }
    if (Number(bits) !== data.length * 8) {
      throw new FabError(
        "manifest-mismatch",
        `File sizes couldn't be verified: ${path} is ${data.length * 8} bits, the manifest says ${bits}`,
      );
    }
    listed.add(path);
  }
  for (const path of files.keys()) {
    if (!listed.has(path)) {
      throw new FabError("manifest-mismatch", `${path} is in the FAB but not in .info/CONTENT`);
    }
  }
  const pyprojectBytes = files.get("pyproject.toml");
  if (pyprojectBytes === undefined) {
    throw new FabError("bad-pyproject", "the FAB has no pyproject.toml");
  }
  let pyproject: Record<string, unknown>;
  try {
    pyproject = parse(new TextDecoder().decode(pyprojectBytes), {
      integersAsBigInt: true,
    }) as Record<string, unknown>;
  } catch (err) {
    const detail = err instanceof TomlError ? err.message.split("\n")[0] : String(err);
    throw new FabError("bad-pyproject", `Invalid TOML content in pyproject.toml: ${detail}`);
  }
  const problems = pyprojectProblems(pyproject);
  if (problems.length > 0) {
    throw new FabError(
      "bad-pyproject",
      `Invalid pyproject.toml:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
  }
  const project = pyproject["project"] as Record<string, string>;
  const app = (pyproject["tool"] as Record<string, Record<string, Record<string, unknown>>>)[
    "flwr"
  ]!["app"] as Record<string, unknown>;
  const components = app["components"] as Record<string, string>;
  let config: UserConfig;
  try {
    config = flattenConfig((app["config"] as Record<string, unknown> | undefined) ?? {});
  } catch (err) {
    throw new FabError(
      "bad-pyproject",
      `Invalid [tool.flwr.app.config]: ${(err as Error).message}`,
    );
  }
  const publisher = app["publisher"] as string;
  const name = project["name"]!;
  return {
    hash,
    fabId: `${publisher}/${name}`,
    fabVersion: project["version"]!,
    publisher,
    name,
    components: { serverapp: components["serverapp"]!, clientapp: components["clientapp"]! },
    config,
    pyproject,
    files,
  };
}

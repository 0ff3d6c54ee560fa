/**
 * Which SuperLink a `flwr` command talks to, from its positional arguments. Two forms:
 *
 * - **The seed's (flwr 1.29) form**, `[app-dir] [federation]`: a federation of the app's
 *   `package.json` `flwr.federations` (`resolveFederation`).
 * - **Flower 1.42's form**, `[connection]`: a `[superlink.<connection>]` table of
 *   `$FLWR_HOME/config.toml` (`resolveSuperLinkConnection`), default `[superlink].default`.
 *
 * With two arguments it is always the seed's form. One argument is an app directory when it is
 * an existing directory or looks like a path (`.`, `./x`, `a/b`), else a connection name (a
 * directory wins when both exist). With none, `./package.json` is used when it has a
 * `flwr.federations` section, else `$FLWR_HOME/config.toml`'s default connection.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  controlEndpointLabel,
  type FederationConfig,
  resolveFederation,
  resolveSuperLinkConnection,
} from "@flwr-ts/core";
import { flwrHome } from "../app-runtime/installed-app.js";
import { CliError } from "./cli-error.js";

/** `$FLWR_HOME/config.toml`, Flower's CLI connection file. */
export function flowerConfigPath(): string {
  return join(flwrHome(), "config.toml");
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** True when `text` reads as a path rather than a connection name. */
function looksLikePath(text: string): boolean {
  return text === "." || text === ".." || /[/\\]/.test(text) || text.startsWith(".");
}

function readPackageJson(appDir: string): { file: string; json: unknown } {
  const dir = resolve(appDir);
  if (!isDirectory(dir)) throw new CliError(`App directory '${appDir}' does not exist.`);
  const file = join(dir, "package.json");
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new CliError(`'${appDir}' is not a flwr-ts app: ${file} does not exist.`);
  }
  try {
    return { file, json: JSON.parse(text) };
  } catch (err) {
    throw new CliError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * Reads `<appDir>/package.json` and picks the federation.
 * @param federationName - undefined: `flwr.federations.default`.
 * @throws CliError with what to fix.
 */
export function loadFederation(appDir: string, federationName?: string): FederationConfig {
  const { json } = readPackageJson(appDir);
  const result = resolveFederation(json, resolve(appDir), federationName);
  if (!result.ok) throw new CliError(result.error.message);
  return result.federation;
}

/**
 * Reads `$FLWR_HOME/config.toml` and picks the connection.
 * @param connectionName - undefined: `[superlink].default`.
 * @throws CliError with what to fix.
 */
export function loadConnection(connectionName?: string): FederationConfig {
  const file = flowerConfigPath();
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new CliError(
      connectionName === undefined
        ? `No SuperLink given and ${file} does not exist; pass an app directory and federation, ` +
            "or create the file with a [superlink.<name>] connection"
        : `'${connectionName}' is neither an app directory nor a SuperLink connection: ${file} ` +
            `does not exist; create it with [superlink.${connectionName}] or pass an app directory`,
    );
  }
  const result = resolveSuperLinkConnection(text, file, connectionName);
  if (!result.ok) throw new CliError(result.error.message);
  return result.federation;
}

/** True when `./package.json` (of `dir`) exists and has a `flwr.federations` object. */
function hasFederations(dir: string): boolean {
  const file = join(dir, "package.json");
  if (!existsSync(file)) return false;
  try {
    const json = JSON.parse(readFileSync(file, "utf8")) as { flwr?: { federations?: unknown } };
    return typeof json?.flwr?.federations === "object" && json.flwr.federations !== null;
  } catch {
    return false;
  }
}

/**
 * The SuperLink of a command that takes `[app-dir] [federation]` or `[connection]` (see the
 * module note).
 * @throws CliError with what to fix.
 */
export function loadTarget(first?: string, second?: string): FederationConfig {
  if (second !== undefined) return loadFederation(first ?? ".", second);
  if (first !== undefined) {
    if (isDirectory(first) || looksLikePath(first)) return loadFederation(first);
    return loadConnection(first);
  }
  if (hasFederations(".") || !existsSync(flowerConfigPath())) return loadFederation(".");
  return loadConnection();
}

/**
 * The SuperLink of `flwr run [app-dir] [name]`: `name` is a federation of the app's
 * `package.json` when it defines one of that name, else a connection of `config.toml`
 * (Flower 1.42's `flwr run . <connection>`); without `name`, the app's default federation when
 * it has one, else the default connection.
 * @throws CliError with what to fix.
 */
export function loadRunTarget(appDir: string, name?: string): FederationConfig {
  const { json } = readPackageJson(appDir);
  const federations = (json as { flwr?: { federations?: Record<string, unknown> } })?.flwr
    ?.federations;
  const defined =
    typeof federations === "object" && federations !== null
      ? name === undefined
        ? typeof federations["default"] === "string"
        : name !== "default" && Object.hasOwn(federations, name)
      : false;
  if (defined || !existsSync(flowerConfigPath())) return loadFederation(appDir, name);
  return loadConnection(name);
}

/**
 * The help paragraph every SuperLink command shares: the two forms and the address rules.
 */
export const TARGET_HELP = `The SuperLink: a federation of the app's package.json ("flwr.federations"), or with
Flower 1.42's form a connection [superlink.<connection>] of $FLWR_HOME/config.toml
(default: [superlink].default). One argument that is not a directory is a connection name.
Control wire: "address": "host:port" is gRPC (Flower 1.29-1.36, flwr-ts --control-api-address);
"https://host:port" (TLS) or "http://host:port" (plaintext), or "transport": "http", is the
HTTP Control API (Flower 1.37+, flwr-ts --port). In config.toml a bare address is HTTP;
transport = "grpc" selects gRPC.`;

/**
 * The progress lines of a resolved target: the seed's `Loading project configuration... ` /
 * `Success` for a package.json federation, Flower 1.42's `Using SuperLink: <name> (<address>)`
 * for a config.toml connection.
 */
export function targetLines(federation: FederationConfig): string[] {
  return federation.source === "config.toml"
    ? [`Using SuperLink: ${federation.name} (${controlEndpointLabel(federation)})`]
    : ["Loading project configuration... ", "Success"];
}

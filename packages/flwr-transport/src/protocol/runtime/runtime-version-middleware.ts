/**
 * Flower 1.42's runtime version check on the Runtime API (SuperLink's and SuperNode's) (`VersionDependency` with
 * `reject_incompatible=True`, `flwr/supercore/dependencies/version.py`,
 * `flwr/supercore/runtime_version_compatibility.py`): a caller that sends none of
 * `flwr-package-name`, `flwr-package-version`, `flwr-component-name` is accepted (1.42's
 * "temporary allowance"; flwr-ts's own Runtime clients send none); otherwise each must be one
 * non-empty value, the package `flwr` or `flwr-nightly`, and the version of the same
 * major.minor as the release this SuperLink or SuperNode speaks (1.42). A mismatch is 412
 * `{"code":1001,"detail":"Runtime version compatibility check failed.","extra":<why>}`, on
 * which Python clients exit with code 606. Fleet and Control never reject (1.42 only logs).
 */
import type { Middleware } from "../../wire/call-context.js";
import { Code } from "../../wire/code.js";
import type { MetadataValue } from "../../wire/metadata.js";
import { RpcError } from "../../wire/rpc-error.js";

/** The version header names (`flwr/supercore/constant.py:173-176`). */
export const RUNTIME_VERSION_HEADERS = {
  packageName: "flwr-package-name",
  packageVersion: "flwr-package-version",
  componentName: "flwr-component-name",
} as const;

/** The Flower release whose Runtime API the SuperLink speaks. */
export const RUNTIME_API_FLOWER_VERSION = "1.42.0";

const PACKAGE_NAMES = new Set(["flwr", "flwr-nightly"]);

function text(values: MetadataValue[]): string[] {
  return values.map((v) => (typeof v === "string" ? v : v.toString("utf8")));
}

/** Why a peer's headers are incompatible, or undefined when it is accepted. */
export function runtimeVersionProblem(
  get: (key: string) => MetadataValue[],
  local: { component: string; version: string } = {
    component: "SuperLink",
    version: RUNTIME_API_FLOWER_VERSION,
  },
): string | undefined {
  const keys = Object.values(RUNTIME_VERSION_HEADERS);
  const values = keys.map((k) => text(get(k)));
  if (values.every((v) => v.length === 0)) return undefined;
  for (const [i, v] of values.entries()) {
    if (v.length !== 1 || v[0]!.trim() === "")
      return `Invalid Flower runtime metadata: '${keys[i]}' must have exactly one non-empty value.`;
  }
  const [name, version, component] = values.map((v) => v[0]!.trim()) as [string, string, string];
  if (!PACKAGE_NAMES.has(name)) return `Peer Flower package name is not recognized: '${name}'.`;
  const peer = /^v?(\d+)\.(\d+)(?:[.\w+!-]*)$/i.exec(version);
  if (!peer) return `Peer Flower version metadata cannot be parsed: '${version}'.`;
  const [major, minor] = local.version.split(".").map(Number);
  if (Number(peer[1]) !== major || Number(peer[2]) !== minor)
    return `${local.component} version ${local.version} detected a runtime version mismatch: expected a peer from the same major.minor release, but received ${component} version ${version}.`;
  return undefined;
}

/**
 * The middleware: 412 {1001} with the reason as `extra` for an incompatible caller.
 * @param component - the serving component named in the reason (`SuperLink` or `SuperNode`).
 */
export function createRuntimeVersionMiddleware(component = "SuperLink"): Middleware {
  const local = { component, version: RUNTIME_API_FLOWER_VERSION };
  return (_request, ctx) => {
    const problem = runtimeVersionProblem((key) => ctx.metadata.get(key), local);
    if (problem !== undefined)
      throw new RpcError(Code.FAILED_PRECONDITION, problem, { apiErrorCode: 1001 });
  };
}

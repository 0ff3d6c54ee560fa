/**
 * The Runtime API forms of `flower-superexec` and `flwr-clientapp` (Flower 1.42's flags):
 *
 * - `flower-superexec --runtime-api-address ADDR (--insecure | [--root-certificates CA])
 *   [--plugin-type clientapp] [--superexec-auth-secret-file FILE] [--parent-pid PID]`, or
 *   `--appio-api-address ADDR` (1.42's deprecated name) when ADDR answers as an HTTP/1.1 API
 *   ({@link speaksRuntimeApi}); a gRPC (HTTP/2) AppIo API keeps the 1.29 ClientAppIo/ServerAppIo
 *   SuperExec.
 * - `flwr-clientapp` / `flwr-serverapp --runtime-api-address ADDR (--token T | --token-file F)
 *   (--insecure | [--root-certificates CA]) [--parent-pid PID]`, as that SuperExec (and 1.42's)
 *   launches them.
 *
 * `--plugin-type clientapp` (the default) acquires `flwr-clientapp` tasks (a 1.42 SuperNode's),
 * `--plugin-type serverapp` acquires `flwr-serverapp` tasks (a 1.42 SuperLink's) and runs them as
 * TypeScript ServerApps. 1.42 ignores `--plugin-type` (its SuperExec takes every task type);
 * flwr-ts acquires the one type only, so a Python SuperExec may serve the others.
 */
import { readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { CliSpec } from "@flwr-ts/core/cli";
import { parseAddress } from "../../cli/address.js";
import { UsageError } from "../../cli/cli-error.js";
import { appProcessSpec, parseFlags, SUPEREXEC_SPEC } from "../../cli/help.js";
import { TaskType } from "../../protocol/runtime/runtime-definition.js";
import { loadSuperExecAuthSecret } from "../../protocol/runtime/superexec-auth.js";
import { probeWire } from "../../wire/wire-probe.js";
import { appLog } from "../app-log.js";
import { startParentMonitor } from "../parent-monitor.js";
import { runClientAppRuntime } from "./run-clientapp-runtime.js";
import { runServerAppRuntime } from "./run-serverapp-runtime.js";
import { runRuntimeSuperExec, SuperExecAuthError } from "./runtime-superexec.js";

/** True when `argv` names a Runtime API explicitly (`--runtime-api-address`). */
export function namesRuntimeApi(argv: readonly string[]): boolean {
  return argv.some((a) => a === "--runtime-api-address" || a.startsWith("--runtime-api-address="));
}

/**
 * True when `address` answers as Flower's protobuf-over-HTTP API (HTTP/1.1, plain or TLS) — a
 * 1.35+ Runtime API — rather than gRPC (HTTP/2, 1.29's AppIo APIs). Nothing answering: false.
 */
export async function speaksRuntimeApi(address: string): Promise<boolean> {
  const parsed = parseAddress(address);
  if (!parsed) return false;
  const probe = await probeWire(parsed.host, parsed.port, { timeoutMs: 2000 });
  return probe?.http === "http1";
}

/** This installation's `flwr-clientapp` (or `flwr-serverapp`), run with the same Node.js. */
function runtimeAppCommand(app: "clientapp" | "serverapp" = "clientapp"): {
  command: string;
  args: string[];
} {
  const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
  const script = fileURLToPath(new URL(`../../cli/flwr-${app}${ext}`, import.meta.url));
  return ext === ".ts"
    ? { command: process.execPath, args: ["--import", "tsx", script] }
    : { command: process.execPath, args: [script] };
}

const COMMON_FLAGS = [
  "runtime-api-address",
  "appio-api-address",
  "insecure",
  "root-certificates",
  "parent-pid",
  "allow-runtime-dependency-installation",
];

function parse(
  spec: CliSpec,
  argv: string[],
  extra: readonly string[],
): Record<string, string | boolean | undefined> {
  return parseFlags(spec, [...COMMON_FLAGS, ...extra], argv, { insecure: false });
}

function common(values: Record<string, string | boolean | undefined>) {
  const address = (values["runtime-api-address"] ?? values["appio-api-address"]) as
    | string
    | undefined;
  if (!address) throw new UsageError("--runtime-api-address is required");
  if (!parseAddress(address))
    throw new UsageError(`--runtime-api-address: '${address}' is not a host:port address`);
  const pidText = values["parent-pid"] as string | undefined;
  if (pidText !== undefined && !/^\d+$/.test(pidText))
    throw new UsageError(`--parent-pid must be a process id, got '${pidText}'`);
  const insecure = Boolean(values["insecure"]);
  const rootCertificates = values["root-certificates"] as string | undefined;
  if (insecure && rootCertificates !== undefined)
    throw new UsageError("--insecure and --root-certificates cannot be used together");
  if (values["allow-runtime-dependency-installation"])
    appLog("WARNING", "flwr-ts installs no app dependencies at runtime; the flag is ignored.");
  return {
    address,
    insecure,
    rootCertificates,
    parentPid: pidText === undefined ? undefined : Number(pidText),
  };
}

/** `flower-superexec` against a Runtime API; resolves with the exit status. */
export async function runRuntimeSuperExecCli(argv: string[]): Promise<number> {
  const values = parse(SUPEREXEC_SPEC, argv, [
    "plugin-type",
    "superexec-auth-secret-file",
    "health-server-address",
    "executor",
  ]);
  const c = common(values);
  const pluginType = (values["plugin-type"] as string | undefined) ?? "clientapp";
  if (pluginType !== "clientapp" && pluginType !== "serverapp")
    throw new UsageError(`--plugin-type must be 'serverapp' or 'clientapp', got '${pluginType}'`);
  if (values["executor"] !== undefined && values["executor"] !== "subprocess")
    throw new UsageError(`--executor: only 'subprocess' is supported, got '${values["executor"]}'`);
  const secretFile = values["superexec-auth-secret-file"] as string | undefined;
  let authSecret: Buffer | undefined;
  if (secretFile !== undefined) {
    try {
      authSecret = loadSuperExecAuthSecret(secretFile);
    } catch (error) {
      process.stderr.write(
        `ERROR : Failed to load SuperExec authentication secret: ${(error as Error).message}\n`,
      );
      return 1;
    }
  }
  const stop = new AbortController();
  if (c.parentPid !== undefined) startParentMonitor(c.parentPid, () => stop.abort());
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => stop.abort());
  appLog("INFO", "Starting Flower SuperExec");
  appLog("DEBUG", `SuperExec: Runtime API at ${c.address} (Flower 1.35+ HTTP)`);
  try {
    await runRuntimeSuperExec({
      address: c.address,
      insecure: c.insecure,
      rootCertificates: c.rootCertificates,
      rootCertificatesPath: c.rootCertificates,
      taskTypes: [pluginType === "serverapp" ? TaskType.SERVER_APP : TaskType.CLIENT_APP],
      app: runtimeAppCommand(pluginType),
      authSecret,
      signal: stop.signal,
    });
  } catch (error) {
    if (!(error instanceof SuperExecAuthError)) throw error;
    appLog("ERROR", error.message);
    return 1;
  }
  appLog("INFO", "SuperExec terminated gracefully.");
  return 0;
}

/**
 * The task token of an app process: `--token T` or `--token-file PATH` (one of them, trimmed,
 * not empty), as 1.42's `try_obtain_flwr_app_token` reads them.
 * @throws UsageError naming the problem.
 */
export function taskTokenOf(values: Record<string, string | boolean | undefined>): string {
  const direct = values["token"] as string | undefined;
  const file = values["token-file"] as string | undefined;
  if (direct !== undefined && file !== undefined)
    throw new UsageError("--token and --token-file cannot be used together");
  if (direct !== undefined) {
    if (direct.trim() === "") throw new UsageError("Argument `--token` does not contain a token.");
    return direct.trim();
  }
  if (file === undefined)
    throw new UsageError("--token or --token-file is required with --runtime-api-address");
  let text: string;
  try {
    if (!statSync(file).isFile()) throw new Error("not a file");
    text = readFileSync(file, "utf8");
  } catch {
    throw new UsageError("Path argument `--token-file` does not point to a file.");
  }
  if (text.trim() === "")
    throw new UsageError("Path argument `--token-file` does not contain a token.");
  return text.trim();
}

const TOKEN_OPTIONS = ["token", "token-file"] as const;

/** `flwr-clientapp` against a Runtime API; resolves with the exit status. */
export async function runClientAppRuntimeCli(argv: string[]): Promise<number> {
  const values = parse(appProcessSpec("flwr-clientapp"), argv, TOKEN_OPTIONS);
  const c = common(values);
  const token = taskTokenOf(values);
  if (c.parentPid !== undefined) startParentMonitor(c.parentPid);
  return runClientAppRuntime({
    address: c.address,
    insecure: c.insecure,
    rootCertificates: c.rootCertificates,
    token,
  });
}

/** `flwr-serverapp` against a SuperLink's Runtime API; resolves with the exit status. */
export async function runServerAppRuntimeCli(argv: string[]): Promise<number> {
  const values = parse(appProcessSpec("flwr-serverapp"), argv, TOKEN_OPTIONS);
  const c = common(values);
  const token = taskTokenOf(values);
  const stop = new AbortController();
  if (c.parentPid !== undefined) startParentMonitor(c.parentPid);
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => stop.abort());
  appLog("INFO", "Start `flwr-serverapp` process");
  const code = await runServerAppRuntime({
    address: c.address,
    insecure: c.insecure,
    rootCertificates: c.rootCertificates,
    token,
    signal: stop.signal,
  });
  return code >= 0 && code < 100 ? 0 : 1;
}

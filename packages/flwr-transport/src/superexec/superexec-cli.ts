/**
 * Argument handling of `flower-superexec` (also used by the deprecated token-less forms of
 * `flwr-serverapp` / `flwr-clientapp`), and the command lines of the app processes it launches:
 * this installation's `flwr-serverapp` / `flwr-clientapp`, run with the same Node.js.
 */

import { fileURLToPath } from "node:url";
import { consoleLogger } from "@flwr-ts/core";
import { appLog } from "../app-runtime/app-log.js";
import { startParentMonitor } from "../app-runtime/parent-monitor.js";
import {
  namesRuntimeApi,
  runRuntimeSuperExecCli,
  speaksRuntimeApi,
} from "../app-runtime/runtime-api/runtime-cli.js";
import { parseAddress } from "../cli/address.js";
import { UsageError } from "../cli/cli-error.js";
import { parseFlags, SUPEREXEC_SPEC } from "../cli/help.js";
import { type AppCommand, type PluginType, runSuperExec } from "./superexec.js";

/** Idle time of warm ClientApp processes (ms); `FLWR_TS_CLIENTAPP_REUSE_MS=0` disables reuse. */
export const DEFAULT_CLIENTAPP_REUSE_MS = 30_000;

/** How to start this installation's `flwr-serverapp` / `flwr-clientapp`. */
export function appCommand(pluginType: PluginType): AppCommand {
  const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
  const script = fileURLToPath(new URL(`../cli/flwr-${pluginType}${ext}`, import.meta.url));
  return ext === ".ts"
    ? { command: process.execPath, args: ["--import", "tsx", script] }
    : { command: process.execPath, args: [script] };
}

/**
 * Runs `flower-superexec` with `argv`; resolves with the exit status. `--runtime-api-address`,
 * or an `--appio-api-address` that answers as an HTTP/1.1 API, selects the Flower 1.35+ Runtime
 * API SuperExec (`app-runtime/runtime-api/runtime-cli.ts`); otherwise the 1.29 AppIo one below.
 */
export async function runSuperExecCli(argv: string[]): Promise<number> {
  if (namesRuntimeApi(argv)) return runRuntimeSuperExecCli(argv);
  const appioIndex = argv.indexOf("--appio-api-address");
  const appio =
    appioIndex >= 0
      ? argv[appioIndex + 1]
      : argv
          .find((a) => a.startsWith("--appio-api-address="))
          ?.slice("--appio-api-address=".length);
  if (appio !== undefined && parseAddress(appio) && (await speaksRuntimeApi(appio)))
    return runRuntimeSuperExecCli(argv);
  const values = parseFlags(
    SUPEREXEC_SPEC,
    [
      "appio-api-address",
      "plugin-type",
      "insecure",
      "parent-pid",
      "superexec-auth-secret-file",
      "health-server-address",
      "allow-runtime-dependency-installation",
    ],
    argv,
    { insecure: false },
  );
  const address = values["appio-api-address"] as string | undefined;
  if (!address) throw new UsageError("--appio-api-address is required");
  if (!parseAddress(address))
    throw new UsageError(`--appio-api-address: '${address}' is not a host:port address`);
  const pluginType = values["plugin-type"];
  if (pluginType !== "serverapp" && pluginType !== "clientapp")
    throw new UsageError(
      `--plugin-type must be 'serverapp' or 'clientapp', got '${String(pluginType)}'`,
    );
  if (!values["insecure"]) {
    consoleLogger.log("ERROR", "SuperExec does not support TLS yet. (Exit Code: 602)");
    return 1;
  }
  if (values["superexec-auth-secret-file"] !== undefined)
    throw new UsageError(
      "--superexec-auth-secret-file is not supported by the flwr-ts SuperExec yet; run without it (the AppIo APIs listen on 127.0.0.1 in subprocess mode)",
    );
  const pidText = values["parent-pid"] as string | undefined;
  if (pidText !== undefined && !/^\d+$/.test(pidText))
    throw new UsageError(`--parent-pid must be a process id, got '${pidText}'`);
  const stop = new AbortController();
  // Parent gone: its AppIo API is gone too, nothing is left to finish. The app processes get
  // SIGKILL (`parentGone`) and this process exits at once.
  const parentGone = new AbortController();
  if (pidText !== undefined)
    startParentMonitor(Number(pidText), () => {
      parentGone.abort();
      process.exit(1);
    });
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => stop.abort());
  appLog("INFO", "Starting Flower SuperExec");
  const reuseEnv = process.env["FLWR_TS_CLIENTAPP_REUSE_MS"];
  const reuseMs =
    reuseEnv !== undefined && /^\d+$/.test(reuseEnv)
      ? Number(reuseEnv)
      : DEFAULT_CLIENTAPP_REUSE_MS;
  await runSuperExec({
    appioAddress: address,
    pluginType,
    app: appCommand(pluginType),
    extraAppArgs:
      pluginType === "clientapp" && reuseMs > 0 ? ["--flwr-ts-reuse-idle-ms", String(reuseMs)] : [],
    signal: stop.signal,
    parentGone: parentGone.signal,
  });
  appLog("INFO", "SuperExec terminated gracefully.");
  return 0;
}

#!/usr/bin/env node
/**
 * `flwr-serverapp --insecure --serverappio-api-address ADDR --token T [--parent-pid PID]`: runs the
 * ServerApp of one run (launched by a SuperExec). Without `--token` it acts as a SuperExec for
 * ServerApps (deprecated in Flower as well). With `--runtime-api-address ADDR --token T
 * (--insecure | --root-certificates CA)` it runs the ServerApp task of a Flower 1.35+ SuperLink's
 * Runtime API (`app-runtime/runtime-api/run-serverapp-runtime.ts`).
 */
import { consoleLogger } from "@flwr-ts/core";
import { renderHelp, wantsHelp } from "@flwr-ts/core/cli";
import { startParentMonitor } from "../app-runtime/parent-monitor.js";
import { runServerApp } from "../app-runtime/run-serverapp.js";
import { namesRuntimeApi, runServerAppRuntimeCli } from "../app-runtime/runtime-api/runtime-cli.js";
import { parseAppProcessArgs } from "../superexec/app-args.js";
import { runSuperExecCli } from "../superexec/superexec-cli.js";
import { formatCliError, toCliError } from "./cli-error.js";
import { appProcessSpec } from "./help.js";

async function main(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) {
    process.stdout.write(renderHelp(appProcessSpec("flwr-serverapp")));
    return 0;
  }
  // Flower 1.35+: launched by a Runtime API SuperExec for a SuperLink's Runtime API.
  if (namesRuntimeApi(argv)) return runServerAppRuntimeCli(argv);
  const args = parseAppProcessArgs(argv, "serverappio-api-address", "127.0.0.1:9091");
  if (!args.insecure) {
    consoleLogger.log("ERROR", "`flwr-serverapp` does not support TLS yet. (Exit Code: 602)");
    return 1;
  }
  if (args.token === undefined) {
    consoleLogger.log(
      "WARNING",
      "Directly executing `flwr-serverapp` is DEPRECATED; running `flower-superexec --insecure --plugin-type serverapp` instead.",
    );
    return runSuperExecCli([
      "--insecure",
      "--plugin-type",
      "serverapp",
      "--appio-api-address",
      args.address,
      ...(args.parentPid ? ["--parent-pid", String(args.parentPid)] : []),
    ]);
  }
  if (args.parentPid !== undefined) startParentMonitor(args.parentPid);
  const code = await runServerApp({ address: args.address, token: args.token });
  return code >= 0 && code < 100 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (status) => process.exit(status),
  (error: unknown) => {
    const e = toCliError(error);
    consoleLogger.log("ERROR", formatCliError(e));
    process.exit(e.status);
  },
);

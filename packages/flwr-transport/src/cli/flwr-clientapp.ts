#!/usr/bin/env node
/**
 * `flwr-clientapp --insecure --clientappio-api-address ADDR --token T [--parent-pid PID]`: runs the
 * ClientApp for one message (launched by a SuperExec); with `--flwr-ts-reuse-idle-ms N` it then
 * waits up to N ms for the run's next message (warm reuse). Without `--token` it acts as a
 * SuperExec for ClientApps (deprecated in Flower as well). With `--runtime-api-address ADDR --token T
 * (--insecure | --root-certificates CA)` it runs one ClientApp task of a Flower 1.35+ Runtime API
 * (`app-runtime/runtime-api/`).
 */
import { consoleLogger } from "@flwr-ts/core";
import { renderHelp, wantsHelp } from "@flwr-ts/core/cli";
import { startParentMonitor } from "../app-runtime/parent-monitor.js";
import { runClientApp } from "../app-runtime/run-clientapp.js";
import { namesRuntimeApi, runClientAppRuntimeCli } from "../app-runtime/runtime-api/runtime-cli.js";
import { parseAppProcessArgs } from "../superexec/app-args.js";
import { runSuperExecCli } from "../superexec/superexec-cli.js";
import { formatCliError, toCliError } from "./cli-error.js";
import { appProcessSpec } from "./help.js";

async function main(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) {
    process.stdout.write(renderHelp(appProcessSpec("flwr-clientapp")));
    return 0;
  }
  // Flower 1.35+: launched by a Runtime API SuperExec (ours or 1.42's) for a Runtime API.
  if (namesRuntimeApi(argv)) return runClientAppRuntimeCli(argv);
  const args = parseAppProcessArgs(argv, "clientappio-api-address", "127.0.0.1:9094");
  if (!args.insecure) {
    consoleLogger.log("ERROR", "`flwr-clientapp` does not support TLS yet. (Exit Code: 602)");
    return 1;
  }
  if (args.token === undefined) {
    consoleLogger.log(
      "WARNING",
      "Directly executing `flwr-clientapp` is DEPRECATED; running `flower-superexec --insecure --plugin-type clientapp` instead.",
    );
    return runSuperExecCli([
      "--insecure",
      "--plugin-type",
      "clientapp",
      "--appio-api-address",
      args.address,
      ...(args.parentPid ? ["--parent-pid", String(args.parentPid)] : []),
    ]);
  }
  if (args.parentPid !== undefined) startParentMonitor(args.parentPid);
  return runClientApp({ address: args.address, token: args.token, idleMs: args.reuseIdleMs });
}

main(process.argv.slice(2)).then(
  (status) => process.exit(status),
  (error: unknown) => {
    const e = toCliError(error);
    consoleLogger.log("ERROR", formatCliError(e));
    process.exit(e.status);
  },
);

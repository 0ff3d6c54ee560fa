#!/usr/bin/env node
/**
 * `flower-superexec --insecure --appio-api-address ADDR --plugin-type serverapp|clientapp
 * [--parent-pid PID] [--superexec-auth-secret-file FILE]`: launches app processes for the runs of
 * a SuperLink (serverapp) or SuperNode (clientapp). Exits when its parent dies.
 * `flower-superexec --runtime-api-address ADDR (--insecure | --root-certificates CA)
 * [--superexec-auth-secret-file FILE]` serves ClientApp tasks of a Flower 1.35+ Runtime API
 * (a 1.42 SuperNode in `--isolation process`), as does an `--appio-api-address` that answers HTTP/1.1.
 */
import { consoleLogger } from "@flwr-ts/core";
import { renderHelp, wantsHelp } from "@flwr-ts/core/cli";
import { runSuperExecCli } from "../superexec/superexec-cli.js";
import { formatCliError, toCliError } from "./cli-error.js";
import { SUPEREXEC_SPEC } from "./help.js";

if (wantsHelp(process.argv.slice(2))) {
  process.stdout.write(renderHelp(SUPEREXEC_SPEC));
  process.exit(0);
}

runSuperExecCli(process.argv.slice(2)).then(
  (status) => process.exit(status),
  (error: unknown) => {
    const e = toCliError(error);
    consoleLogger.log("ERROR", formatCliError(e));
    process.exit(e.status);
  },
);

#!/usr/bin/env node
/**
 * `flwr`: the Flower command line. Subcommands are listed in `flwr/commands.ts` (one line each).
 */
import { processIo, runCommand } from "./command.js";
import { flwrCommand } from "./flwr/commands.js";
import { silenceTlsServerNameWarning } from "./node-warnings.js";
import { packageVersion } from "./version.js";

silenceTlsServerNameWarning();
const argv = process.argv.slice(2);
if (argv[0] === "--version" || argv[0] === "-V") {
  process.stdout.write(`flwr-ts version: ${packageVersion()}\n`);
} else {
  process.exitCode = await runCommand(flwrCommand, argv, processIo);
}

#!/usr/bin/env node
/** `flower-superlink`: the flwr-ts SuperLink (Fleet + Control APIs). */
import { runSuperLinkCli } from "../superlink/cli/run-superlink.js";

runSuperLinkCli(process.argv.slice(2)).then(
  (status) => process.exit(status),
  (error: unknown) => {
    process.stderr.write(
      `ERROR : flower-superlink crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);

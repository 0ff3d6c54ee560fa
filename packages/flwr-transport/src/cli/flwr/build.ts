/**
 * `flwr build [app-dir] [--output DIR]`: packs the app into a FAB named
 * `<publisher>.<name>.<version>.<hash8>.fab` (Python Flower's `flwr build`).
 */
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { buildFab } from "@flwr-ts/core";
import { CliError, UsageError } from "../cli-error.js";
import type { CliCommand } from "../command.js";

const USAGE = `Usage: flwr build [app-dir] [--output DIR]

Build a Flower App Bundle (FAB) from the app directory (default: .).`;

/** The `flwr build` command. */
export const command: CliCommand = {
  usage: USAGE,
  async run(argv, io) {
    let parsed: ReturnType<typeof parseArgs>;
    try {
      parsed = parseArgs({
        args: argv,
        allowPositionals: true,
        strict: true,
        options: { output: { type: "string", short: "o" } },
      });
    } catch (err) {
      throw new UsageError((err as Error).message.split("\n")[0]!);
    }
    const [appDir = ".", extra] = parsed.positionals;
    if (extra !== undefined) throw new UsageError(`Got unexpected extra argument '${extra}'.`);
    let fab: ReturnType<typeof buildFab>;
    try {
      fab = buildFab(appDir);
    } catch (error) {
      throw new CliError(`Could not build the app: ${(error as Error).message}`);
    }
    const outDir = resolve((parsed.values["output"] as string | undefined) ?? ".");
    const file = join(outDir, fab.fileName);
    writeFileSync(file, fab.bytes);
    io.out(`🎊 Successfully built ${fab.fileName}\n`);
    return 0;
  },
};

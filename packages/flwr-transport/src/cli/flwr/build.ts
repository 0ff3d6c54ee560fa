/**
 * `flwr build [app-dir] [--output DIR]`: packs the app into a FAB named
 * `<publisher>.<name>.<version>.<hash8>.fab` (Python Flower's `flwr build`).
 */
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { buildFab } from "@flwr-ts/core";
import type { CliSpec } from "@flwr-ts/core/cli";
import { CliError, UsageError } from "../cli-error.js";
import { type CliCommand, parseCommandArgs } from "../command.js";

const SPEC: CliSpec = {
  name: "flwr build",
  description: "Build a Flower App Bundle (FAB) from the app directory.",
  arguments: [{ name: "app-dir", help: "The app directory.", default: "." }],
  options: [
    {
      name: "output",
      short: "o",
      metavar: "DIR",
      help: "Directory to write the .fab file to.",
      default: ".",
    },
  ],
};

/** The `flwr build` command. */
export const command: CliCommand = {
  spec: SPEC,
  async run(argv, io) {
    const parsed = parseCommandArgs(SPEC, argv);
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

/** Options and arguments shared by the `flwr` commands' {@link CliSpec}s. */
import type { CliArgument, CliOption } from "@flwr-ts/core/cli";
import { TARGET_HELP } from "../control-target.js";

/** `--format default|json`. */
export const FORMAT_OPTION: CliOption = {
  name: "format",
  metavar: "FORMAT",
  choices: ["default", "json"],
  help: "Output format: default (text and tables) or json (one JSON document).",
  default: "default",
};

/** `[app-dir] [federation]`, the seed's (flwr 1.29) form of the SuperLink. */
export const TARGET_ARGUMENTS: readonly CliArgument[] = [
  {
    name: "app-dir",
    help: "App directory whose package.json defines the federation, or (Flower 1.42) a connection name in $FLWR_HOME/config.toml ([superlink].default when none is given).",
    default: ".",
  },
  {
    name: "federation",
    help: 'Federation name in package.json "flwr.federations" (default: its "default").',
  },
];

/** The note on how the SuperLink is chosen, shown after the panels. */
export const TARGET_EPILOG = TARGET_HELP;

/** The two usage forms of a command that talks to a SuperLink. */
export function targetUsage(command: string, before = "", after = "[OPTIONS]"): string[] {
  return [
    `${command} ${before} [APP-DIR] [FEDERATION] ${after}`.replace(/ +/g, " ").trim(),
    `${command} ${before} [CONNECTION] ${after}`.replace(/ +/g, " ").trim(),
  ];
}

/**
 * The `flwr` subcommands. To add one: write `flwr/<name>.ts` exporting `command: CliCommand`
 * and add its line below.
 */
import { type CommandEntry, commandGroup } from "../command.js";

/** Top-level `flwr` commands. */
export const FLWR_COMMANDS: readonly CommandEntry[] = [
  {
    name: "supernode",
    summary: "Manage SuperNodes (register, list, unregister)",
    load: () => import("./supernode.js"),
  },
];

/** The `flwr` command. */
export const flwrCommand = commandGroup(
  "flwr",
  "Flower command line: manage SuperNodes and runs on a SuperLink.",
  FLWR_COMMANDS,
);

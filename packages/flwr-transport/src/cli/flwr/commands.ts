/**
 * The `flwr` subcommands. To add one: write `flwr/<name>.ts` exporting `command: CliCommand`
 * and add its line below.
 */
import { type CommandEntry, commandGroup } from "../command.js";

/** Top-level `flwr` commands. */
export const FLWR_COMMANDS: readonly CommandEntry[] = [
  { name: "new", summary: "Create a new flwr-ts app", load: () => import("./new.js") },
  { name: "build", summary: "Build a Flower App Bundle (FAB)", load: () => import("./build.js") },
  { name: "run", summary: "Run a Flower App on a federation", load: () => import("./run.js") },
  { name: "list", aliases: ["ls"], summary: "List runs", load: () => import("./ls.js") },
  { name: "log", summary: "Get logs from a run", load: () => import("./log.js") },
  { name: "stop", summary: "Stop a run", load: () => import("./stop.js") },
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
  { version: true },
);

/** `flwr supernode`: register, list and unregister SuperNodes. */
import { type CommandEntry, commandGroup } from "../command.js";

/** `flwr supernode` subcommands. */
export const SUPERNODE_COMMANDS: readonly CommandEntry[] = [
  {
    name: "register",
    summary: "Register a SuperNode's public key with the SuperLink",
    load: () => import("./supernode-register.js"),
  },
  {
    name: "list",
    aliases: ["ls"],
    summary: "List the SuperNodes of the federation",
    load: () => import("./supernode-list.js"),
  },
  {
    name: "unregister",
    summary: "Unregister a SuperNode",
    load: () => import("./supernode-unregister.js"),
  },
];

/** The `flwr supernode` command group. */
export const command = commandGroup(
  "flwr supernode",
  "Manage the SuperNodes of a federation.",
  SUPERNODE_COMMANDS,
);

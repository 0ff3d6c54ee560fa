/** `flwr supernode unregister <node-id> [app-dir] [federation] [--format json]`. */
import { UsageError } from "../cli-error.js";
import type { CliCommand } from "../command.js";
import { loadFederation, withControl } from "../control-client.js";
import { CommandOutput } from "../output-format.js";
import { parseSupernodeArgs } from "./supernode-args.js";

const USAGE = `Usage: flwr supernode unregister <node-id> [app-dir] [federation] [--format default|json]

Unregister a SuperNode (its key cannot be registered again).

Arguments:
  node-id      ID of the SuperNode to remove (see flwr supernode list)
  app-dir      App directory whose package.json defines the federation (default: .)
  federation   Federation name in package.json "flwr.federations" (default: its "default")`;

const UINT64_MAX = (1n << 64n) - 1n;

/** Parses a node id (uint64). */
export function parseNodeId(text: string): bigint {
  if (!/^\d{1,20}$/.test(text) || BigInt(text) > UINT64_MAX) {
    throw new UsageError(`Invalid node ID '${text}': expected an unsigned 64-bit integer.`);
  }
  return BigInt(text);
}

/** The `flwr supernode unregister` command. */
export const command: CliCommand = {
  usage: USAGE,
  async run(argv, io) {
    const args = parseSupernodeArgs(argv, ["node-id", "app-dir", "federation"]);
    const [idText, appDir = ".", federationName] = args.positionals as [string, string?, string?];
    const out = new CommandOutput(io, args.format);
    return out.guard(async () => {
      const nodeId = parseNodeId(idText);
      out.line("Loading project configuration... ");
      const federation = loadFederation(appDir, federationName);
      out.line("Success");
      await withControl(federation, (client, timeoutMs) =>
        client.unregisterNode({ nodeId }, { timeoutMs }),
      );
      out.line(`✅ SuperNode ${nodeId} unregistered successfully.`);
      out.document({ success: true, "node-id": nodeId });
      return 0;
    });
  },
};

/**
 * `flwr supernode unregister <node-id> [app-dir] [federation] [--format json]`, or Flower 1.42's
 * `flwr supernode unregister <node-id> [connection]`.
 */
import { UsageError } from "../cli-error.js";
import type { CliCommand } from "../command.js";
import { withControl } from "../control-client.js";
import { loadTarget, TARGET_HELP, targetLines } from "../control-target.js";
import { CommandOutput } from "../output-format.js";
import { parseSupernodeArgs } from "./supernode-args.js";

const USAGE = `Usage: flwr supernode unregister <node-id> [app-dir] [federation] [--format default|json]
       flwr supernode unregister <node-id> [connection] [--format default|json]

Unregister a SuperNode (its key cannot be registered again).

Arguments:
  node-id      ID of the SuperNode to remove (see flwr supernode list)
  app-dir      App directory whose package.json defines the federation (default: .)
  federation   Federation name in package.json "flwr.federations" (default: its "default")
  connection   Connection name in $FLWR_HOME/config.toml (default: [superlink].default)

${TARGET_HELP}`;

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
    const [idText, first, second] = args.positionals as [string, string?, string?];
    const out = new CommandOutput(io, args.format);
    return out.guard(async () => {
      const nodeId = parseNodeId(idText);
      const federation = loadTarget(first, second);
      for (const line of targetLines(federation)) out.line(line);
      await withControl(federation, (client, timeoutMs) =>
        client.unregisterNode({ nodeId }, { timeoutMs }),
      );
      out.line(`✅ SuperNode ${nodeId} unregistered successfully.`);
      out.document({ success: true, "node-id": nodeId });
      return 0;
    });
  },
};

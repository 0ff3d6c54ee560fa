/**
 * `flwr supernode unregister <node-id> [app-dir] [federation] [--format json]`, or Flower 1.42's
 * `flwr supernode unregister <node-id> [connection]`.
 */
import type { CliSpec } from "@flwr-ts/core/cli";
import { UsageError } from "../cli-error.js";
import type { CliCommand } from "../command.js";
import { withControl } from "../control-client.js";
import { loadTarget, targetLines } from "../control-target.js";
import { CommandOutput } from "../output-format.js";
import { FORMAT_OPTION, TARGET_ARGUMENTS, TARGET_EPILOG, targetUsage } from "./common-options.js";
import { parseSupernodeArgs } from "./supernode-args.js";

const SPEC: CliSpec = {
  name: "flwr supernode unregister",
  description: "Unregister a SuperNode (its key cannot be registered again).",
  usage: targetUsage("flwr supernode unregister", "NODE-ID"),
  arguments: [
    {
      name: "node-id",
      required: true,
      help: "ID of the SuperNode to remove (see flwr supernode list).",
    },
    ...TARGET_ARGUMENTS,
  ],
  options: [FORMAT_OPTION],
  epilog: TARGET_EPILOG,
};

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
  spec: SPEC,
  async run(argv, io) {
    const args = parseSupernodeArgs(SPEC, argv);
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

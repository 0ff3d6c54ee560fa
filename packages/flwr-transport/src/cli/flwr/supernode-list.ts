/**
 * `flwr supernode list [app-dir] [federation] [--format json] [--verbose]` (alias `ls`), or
 * Flower 1.42's `flwr supernode list [connection]`.
 */
import type { CliSpec } from "@flwr-ts/core/cli";
import type { CliCommand } from "../command.js";
import { withControl } from "../control-client.js";
import { loadTarget, targetLines } from "../control-target.js";
import { CommandOutput } from "../output-format.js";
import { FORMAT_OPTION, TARGET_ARGUMENTS, TARGET_EPILOG, targetUsage } from "./common-options.js";
import { parseSupernodeArgs } from "./supernode-args.js";
import { formatNodes, nodesToJson, renderNodeTable } from "./supernode-list-format.js";

const SPEC: CliSpec = {
  name: "flwr supernode list",
  description: "List the SuperNodes of a federation with their status.",
  usage: targetUsage("flwr supernode list"),
  arguments: TARGET_ARGUMENTS,
  options: [
    FORMAT_OPTION,
    { name: "verbose", short: "v", help: "Also show unregistered SuperNodes." },
  ],
  epilog: TARGET_EPILOG,
};

/** The `flwr supernode list` command. */
export const command: CliCommand = {
  spec: SPEC,
  async run(argv, io) {
    const args = parseSupernodeArgs(SPEC, argv, 0);
    const [first, second] = args.positionals as [string?, string?];
    const out = new CommandOutput(io, args.format);
    return out.guard(async () => {
      const federation = loadTarget(first, second);
      for (const line of targetLines(federation)) out.line(line);
      out.line("📄 Listing all nodes...");
      const res = await withControl(federation, (client, timeoutMs) =>
        client.listNodes({}, { timeoutMs }),
      );
      const nodes = formatNodes(res.nodesInfo, res.now);
      if (out.json) out.document(nodesToJson(nodes));
      else out.line(renderNodeTable(nodes, args.verbose, io.columns));
      return 0;
    });
  },
};

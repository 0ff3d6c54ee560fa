/**
 * `flwr supernode list [app-dir] [federation] [--format json] [--verbose]` (alias `ls`), or
 * Flower 1.42's `flwr supernode list [connection]`.
 */
import type { CliCommand } from "../command.js";
import { withControl } from "../control-client.js";
import { loadTarget, TARGET_HELP, targetLines } from "../control-target.js";
import { CommandOutput } from "../output-format.js";
import { parseSupernodeArgs } from "./supernode-args.js";
import { formatNodes, nodesToJson, renderNodeTable } from "./supernode-list-format.js";

const USAGE = `Usage: flwr supernode list [app-dir] [federation] [--format default|json] [--verbose]
       flwr supernode list [connection] [--format default|json] [--verbose]

List the SuperNodes of a federation with their status.

Arguments:
  app-dir      App directory whose package.json defines the federation (default: .)
  federation   Federation name in package.json "flwr.federations" (default: its "default")
  connection   Connection name in $FLWR_HOME/config.toml (default: [superlink].default)

Options:
  --format     default (table) or json
  -v, --verbose  Also show unregistered SuperNodes

${TARGET_HELP}`;

/** The `flwr supernode list` command. */
export const command: CliCommand = {
  usage: USAGE,
  async run(argv, io) {
    const args = parseSupernodeArgs(argv, ["app-dir", "federation"], {
      verbose: true,
      required: 0,
    });
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
      else out.line(renderNodeTable(nodes, args.verbose));
      return 0;
    });
  },
};

/** `flwr supernode list [app-dir] [federation] [--format json] [--verbose]` (alias `ls`). */
import type { CliCommand } from "../command.js";
import { loadFederation, withControl } from "../control-client.js";
import { CommandOutput } from "../output-format.js";
import { parseSupernodeArgs } from "./supernode-args.js";
import { formatNodes, nodesToJson, renderNodeTable } from "./supernode-list-format.js";

const USAGE = `Usage: flwr supernode list [app-dir] [federation] [--format default|json] [--verbose]

List the SuperNodes of a federation with their status.

Arguments:
  app-dir      App directory whose package.json defines the federation (default: .)
  federation   Federation name in package.json "flwr.federations" (default: its "default")

Options:
  --format     default (table) or json
  -v, --verbose  Also show unregistered SuperNodes`;

/** The `flwr supernode list` command. */
export const command: CliCommand = {
  usage: USAGE,
  async run(argv, io) {
    const args = parseSupernodeArgs(argv, ["app-dir", "federation"], {
      verbose: true,
      required: 0,
    });
    const [appDir = ".", federationName] = args.positionals as [string?, string?];
    const out = new CommandOutput(io, args.format);
    return out.guard(async () => {
      out.line("Loading project configuration... ");
      const federation = loadFederation(appDir, federationName);
      out.line("Success");
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

/**
 * `flwr stop <run-id> [app-dir] [federation] [--format json]` (or Flower 1.42's
 * `flwr stop <run-id> [connection]`): stops a run (Control StopRun).
 */
import { CliError } from "../cli-error.js";
import type { CliCommand } from "../command.js";
import { withControl } from "../control-client.js";
import { loadTarget, TARGET_HELP } from "../control-target.js";
import { CommandOutput } from "../output-format.js";
import { parseRunId } from "./log.js";
import { parseSupernodeArgs } from "./supernode-args.js";

const USAGE = `Usage: flwr stop <run-id> [app-dir] [federation] [--format default|json]
       flwr stop <run-id> [connection] [--format default|json]

Stop a run.

Arguments:
  run-id       The run ID
  app-dir      App directory whose package.json defines the federation (default: .)
  federation   Federation name in package.json "flwr.federations" (default: its "default")
  connection   Connection name in $FLWR_HOME/config.toml (default: [superlink].default)

${TARGET_HELP}`;

/** The `flwr stop` command. */
export const command: CliCommand = {
  usage: USAGE,
  async run(argv, io) {
    const args = parseSupernodeArgs(argv, ["run-id", "app-dir", "federation"]);
    const [runIdText, first, second] = args.positionals as [string, string?, string?];
    const runId = parseRunId(runIdText);
    const out = new CommandOutput(io, args.format);
    return out.guard(async () => {
      const federation = loadTarget(first, second);
      const res = await withControl(federation, (client, timeoutMs) =>
        client.stopRun({ runId }, { timeoutMs }),
      );
      if (!res.success) throw new CliError(`Run ${runId} couldn't be stopped.`);
      out.line(`✋ Run ${runId} successfully stopped.`);
      out.document({ success: true, "run-id": runId.toString() });
      return 0;
    });
  },
};

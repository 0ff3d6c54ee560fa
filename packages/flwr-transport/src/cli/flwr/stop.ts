/** `flwr stop <run-id> [app-dir] [federation] [--format json]`: stops a run (Control StopRun). */
import { CliError } from "../cli-error.js";
import type { CliCommand } from "../command.js";
import { loadFederation, withControl } from "../control-client.js";
import { CommandOutput } from "../output-format.js";
import { parseRunId } from "./log.js";
import { parseSupernodeArgs } from "./supernode-args.js";

const USAGE = `Usage: flwr stop <run-id> [app-dir] [federation] [--format default|json]

Stop a run.`;

/** The `flwr stop` command. */
export const command: CliCommand = {
  usage: USAGE,
  async run(argv, io) {
    const args = parseSupernodeArgs(argv, ["run-id", "app-dir", "federation"]);
    const [runIdText, appDir = ".", federationName] = args.positionals as [
      string,
      string?,
      string?,
    ];
    const runId = parseRunId(runIdText);
    const out = new CommandOutput(io, args.format);
    return out.guard(async () => {
      const federation = loadFederation(appDir, federationName);
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

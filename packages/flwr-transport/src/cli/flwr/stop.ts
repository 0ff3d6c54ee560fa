/**
 * `flwr stop <run-id> [app-dir] [federation] [--format json]` (or Flower 1.42's
 * `flwr stop <run-id> [connection]`): stops a run (Control StopRun).
 */
import type { CliSpec } from "@flwr-ts/core/cli";
import { CliError } from "../cli-error.js";
import type { CliCommand } from "../command.js";
import { withControl } from "../control-client.js";
import { loadTarget } from "../control-target.js";
import { CommandOutput } from "../output-format.js";
import { FORMAT_OPTION, TARGET_ARGUMENTS, TARGET_EPILOG, targetUsage } from "./common-options.js";
import { parseRunId } from "./log.js";
import { parseSupernodeArgs } from "./supernode-args.js";

const SPEC: CliSpec = {
  name: "flwr stop",
  description: "Stop a run.",
  usage: targetUsage("flwr stop", "RUN-ID"),
  arguments: [{ name: "run-id", required: true, help: "The run ID." }, ...TARGET_ARGUMENTS],
  options: [FORMAT_OPTION],
  epilog: TARGET_EPILOG,
};

/** The `flwr stop` command. */
export const command: CliCommand = {
  spec: SPEC,
  async run(argv, io) {
    const args = parseSupernodeArgs(SPEC, argv);
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

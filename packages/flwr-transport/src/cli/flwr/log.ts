/**
 * `flwr log <run-id> [app-dir] [federation] [--stream | --show]` (or Flower 1.42's
 * `flwr log <run-id> [connection]`): prints a run's ServerApp logs
 * (Python Flower's `flwr log`). `--stream` (default) follows them until the run finishes,
 * reconnecting every 60 s from the last timestamp; `--show` prints what exists and returns.
 */
import type { CliSpec } from "@flwr-ts/core/cli";
import { Code } from "../../wire/code.js";
import { isServiceError } from "../../wire/rpc-error.js";
import { UsageError } from "../cli-error.js";
import { type CliCommand, type CliIo, parseCommandArgs } from "../command.js";
import { type ControlClient, withControl } from "../control-client.js";
import { loadTarget } from "../control-target.js";
import { TARGET_ARGUMENTS, TARGET_EPILOG, targetUsage } from "./common-options.js";

const SPEC: CliSpec = {
  name: "flwr log",
  description: "Get logs from a run.",
  usage: targetUsage("flwr log", "RUN-ID"),
  arguments: [{ name: "run-id", required: true, help: "The run ID." }, ...TARGET_ARGUMENTS],
  options: [
    { name: "stream", help: "Follow the logs until the run finishes (the default)." },
    { name: "show", help: "Print the logs once and exit." },
  ],
  epilog: TARGET_EPILOG,
};

/** Each StreamLogs connection lasts at most this long before reconnecting (Flower: 60 s). */
export const CONN_REFRESH_PERIOD_MS = 60_000;

/**
 * Streams a run's logs to `io` until the run finishes.
 * @returns false when the run id is unknown.
 */
export async function streamRunLogs(
  client: ControlClient,
  runId: bigint,
  io: CliIo,
): Promise<boolean> {
  let after = 0;
  for (;;) {
    try {
      for await (const res of client.streamLogs(
        { runId, afterTimestamp: after },
        { timeoutMs: CONN_REFRESH_PERIOD_MS },
      )) {
        io.out(res.logOutput);
        after = Math.max(after, res.latestTimestamp);
      }
      return true;
    } catch (error) {
      if (isServiceError(error) && error.code === Code.DEADLINE_EXCEEDED) continue;
      if (isServiceError(error) && error.code === Code.NOT_FOUND) {
        io.err(`ERROR : Invalid run_id \`${runId}\`, exiting\n`);
        return false;
      }
      throw error;
    }
  }
}

/** Parses a run id (uint64). */
export function parseRunId(text: string | undefined): bigint {
  if (text === undefined) throw new UsageError("Missing argument 'run-id'.");
  if (!/^\d{1,20}$/.test(text) || BigInt(text) > 18446744073709551615n)
    throw new UsageError(`Invalid value for 'run-id': '${text}' is not a valid run ID.`);
  return BigInt(text);
}

/** The `flwr log` command. */
export const command: CliCommand = {
  spec: SPEC,
  async run(argv, io) {
    const parsed = parseCommandArgs(SPEC, argv);
    const [runIdText, first, second, extra] = parsed.positionals;
    if (extra !== undefined) throw new UsageError(`Got unexpected extra argument '${extra}'.`);
    const runId = parseRunId(runIdText);
    if (parsed.values["stream"] && parsed.values["show"])
      throw new UsageError("Use either --stream or --show, not both.");
    const federation = loadTarget(first, second);
    return withControl(federation, async (client) => {
      if (parsed.values["show"]) {
        try {
          for await (const res of client.streamLogs(
            { runId, afterTimestamp: 0 },
            { timeoutMs: 5000 },
          )) {
            io.out(`${res.logOutput}\n`);
            break;
          }
        } catch (error) {
          if (isServiceError(error) && error.code === Code.NOT_FOUND) {
            io.err(`ERROR : Invalid run_id \`${runId}\`, exiting\n`);
            return 1;
          }
          if (!(isServiceError(error) && error.code === Code.DEADLINE_EXCEEDED)) throw error;
        }
        return 0;
      }
      io.err(`INFO :      Starting logstream for run_id \`${runId}\`\n`);
      return (await streamRunLogs(client, runId, io)) ? 0 : 1;
    });
  },
};

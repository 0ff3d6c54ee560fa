/**
 * Runs the `flwr` CLI in this process (the same command tree as the `flwr` bin), capturing what
 * it writes, for tests that check a command's output and exit status without spawning.
 */
import { type CliIo, runCommand } from "../src/cli/command.js";
import { flwrCommand } from "../src/cli/flwr/commands.js";

/** What one `flwr` invocation printed and returned. */
export interface FlwrOutcome {
  /** Exit status. */
  readonly status: number;
  /** Everything written to stdout. */
  readonly out: string;
  /** Everything written to stderr. */
  readonly err: string;
}

/** `flwr <argv…>` in-process. */
export async function flwr(...argv: string[]): Promise<FlwrOutcome> {
  let out = "";
  let err = "";
  const io: CliIo = { out: (t) => (out += t), err: (t) => (err += t) };
  const status = await runCommand(flwrCommand, argv, io);
  return { status, out, err };
}

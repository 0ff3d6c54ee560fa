/**
 * Flower's `abort_if` for AppIo rpcs: a call about a run whose status is in a forbidden list
 * fails with PERMISSION_DENIED and a message naming the status ("Run is finished." plus
 * " Stopped by user." for stopped runs); Python clients read that as "the run is not running".
 */

import { type LinkState, RunStatusValue, RunSubStatus } from "../superlink/state/link-state.js";
import { Code } from "../wire/code.js";
import { RpcError } from "../wire/rpc-error.js";

const STATUS_MESSAGES: Record<string, string> = {
  [RunStatusValue.PENDING]: "Run is pending.",
  [RunStatusValue.STARTING]: "Run is starting.",
  [RunStatusValue.RUNNING]: "Run is running.",
  [RunStatusValue.FINISHED]: "Run is finished.",
};

/** Statuses in which a ServerApp may not exchange messages or objects. */
export const NOT_RUNNING = [
  RunStatusValue.PENDING,
  RunStatusValue.STARTING,
  RunStatusValue.FINISHED,
] as const;

/**
 * Throws PERMISSION_DENIED when the run's status is in `forbidden`, or when the run is unknown
 * ("Run ID not found: <id>").
 */
export function abortIf(state: LinkState, runId: bigint, forbidden: readonly string[]): void {
  const runStatus = state.getRunStatus([runId]).get(runId);
  if (!runStatus) throw new RpcError(Code.PERMISSION_DENIED, `Run ID not found: ${runId}`);
  if (forbidden.includes(runStatus.status)) {
    let message = STATUS_MESSAGES[runStatus.status] ?? `Run is ${runStatus.status}.`;
    if (runStatus.subStatus === RunSubStatus.STOPPED) message += " Stopped by user.";
    throw new RpcError(Code.PERMISSION_DENIED, message);
  }
}

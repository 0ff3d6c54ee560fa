/** Flower's run-status transition rules (`flwr.server.superlink.linkstate.utils`). */
import type { RunStatus } from "@flwr-ts/core/proto";
import { RunStatusValue, RunSubStatus } from "./link-state.js";

const VALID_TRANSITIONS = new Set([
  "pending>starting",
  "starting>running",
  "running>finished",
  "pending>finished",
  "starting>finished",
]);

const FINISHED_SUB_STATUSES = new Set<string>(Object.values(RunSubStatus));

/** True when `current → next` is allowed (finishing before running cannot be `completed`). */
export function isValidTransition(current: RunStatus, next: RunStatus): boolean {
  if (
    (current.status === RunStatusValue.PENDING || current.status === RunStatusValue.STARTING) &&
    next.status === RunStatusValue.FINISHED
  )
    return next.subStatus !== RunSubStatus.COMPLETED && hasValidSubStatus(next);
  return VALID_TRANSITIONS.has(`${current.status}>${next.status}`) && hasValidSubStatus(next);
}

/** A finished status needs completed/failed/stopped; any other status needs "". */
export function hasValidSubStatus(status: RunStatus): boolean {
  if (status.status === RunStatusValue.FINISHED) return FINISHED_SUB_STATUSES.has(status.subStatus);
  return status.subStatus === "";
}

/**
 * The Runtime API's task model (Flower 1.42's `Task`, `flwr/proto/task.proto`) as the SuperLink
 * keeps it: every run has one primary task, created with the run, whose status and timestamps
 * ARE the run's (1.42 derives the run's status from its primary task,
 * `in_memory_linkstate.py` `_get_run`; flwr-ts derives the task's from the run, so Flower 1.29's
 * ServerAppIo, Fleet and Control keep working on the run unchanged). A claimed task's token is
 * the run's app token (`LinkState.createToken`): its expiry fails the run, as 1.42's expiry of a
 * running task does (`No heartbeat received from the run.`).
 */
import type { Run } from "@flwr-ts/core/proto";
import type { Task } from "@flwr-ts/core/proto/runtime";
import { RunType } from "./link-state.js";

/** Task types of primary tasks (`TaskType`, `flwr/supercore/constant.py:250-257`). */
export const PrimaryTaskType = {
  SERVER_APP: "flwr-serverapp",
  SIMULATION: "flwr-simulation",
} as const;

/** What a LinkState stores of a task; the rest comes from its run. */
export interface TaskRecord {
  /** Random uint64 id, unique among tasks. */
  readonly taskId: bigint;
  /** The run it belongs to. */
  readonly runId: bigint;
  /** `flwr-serverapp` or `flwr-simulation`. */
  readonly type: string;
  /** The FAB the task runs, when the run has one. */
  readonly fabHash: string | undefined;
}

/** The primary task type of a run of `runType` (`serverapp` → `flwr-serverapp`). */
export function primaryTaskTypeOf(runType: string): string {
  return runType === RunType.SIMULATION ? PrimaryTaskType.SIMULATION : PrimaryTaskType.SERVER_APP;
}

/** The `Task` message of a primary task: its record plus the run's status and timestamps. */
export function taskOf(record: TaskRecord, run: Run): Task {
  const status = run.status ?? { status: "", subStatus: "", details: "" };
  return {
    taskId: record.taskId,
    type: record.type,
    runId: record.runId,
    status: { status: status.status, subStatus: status.subStatus, details: status.details },
    pendingAt: run.pendingAt,
    startingAt: run.startingAt,
    runningAt: run.runningAt,
    finishedAt: run.finishedAt,
    ...(record.fabHash ? { fabHash: record.fabHash } : {}),
  };
}

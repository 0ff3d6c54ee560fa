/**
 * The lifecycle of Runtime API tasks (Flower 1.42's `claim_task`, `activate_task`,
 * `finish_task`, `get_task_by_token`, `acknowledge_task_heartbeat` in
 * `flwr/supercore/corestate/in_memory_corestate.py`) written once over a LinkState's run and
 * app-token primitives, so the in-memory and the SQLite state share it (each calls it inside
 * its own atomic section). A task is a run's primary task (`task-records.ts`):
 * - claim: pending → starting, a fresh token valid 30 s;
 * - activate (PullTaskInput): starting → running;
 * - heartbeat: the token lives 60 s more;
 * - finish (PushTaskOutput, StopRun): finished with the given sub-status, token revoked;
 * - a token that expires fails its run (`LinkState.getRunInfo` and every token lookup sweep).
 */
import type { Task } from "@flwr-ts/core/proto/runtime";
import { type LinkState, RunStatusValue, RunSubStatus } from "./link-state.js";
import { type TaskRecord, taskOf } from "./task-records.js";

/** How a LinkState finds its task records. */
export interface TaskRecordLookup {
  /** The record of a task id. */
  byTaskId(taskId: bigint): TaskRecord | undefined;
  /** The primary task record of a run. */
  byRunId(runId: bigint): TaskRecord | undefined;
}

/** The `Task` of `record` with its run's current status, or undefined for a vanished run. */
export function currentTask(state: LinkState, record: TaskRecord | undefined): Task | undefined {
  if (!record) return undefined;
  const run = state.getRun(record.runId);
  return run ? taskOf(record, run) : undefined;
}

/**
 * Claims the oldest pending task whose type is in `types`: token, then pending → starting.
 * @returns undefined when none is eligible (or `types` is empty).
 */
export function claimTask(
  state: LinkState,
  lookup: TaskRecordLookup,
  types: readonly string[],
): { task: Task; token: string } | undefined {
  if (types.length === 0) return undefined;
  const wanted = new Set(types);
  const pending = state.getRunInfo({
    statuses: [RunStatusValue.PENDING],
    orderBy: "pending_at",
    ascending: true,
  });
  for (const run of pending) {
    const record = lookup.byRunId(run.runId);
    if (!record || !wanted.has(record.type)) continue;
    const token = state.createToken(run.runId);
    if (token === undefined) continue;
    if (
      !state.updateRunStatus(run.runId, {
        status: RunStatusValue.STARTING,
        subStatus: "",
        details: "",
      })
    ) {
      state.deleteToken(run.runId);
      continue;
    }
    const task = currentTask(state, record);
    if (task) return { task, token };
  }
  return undefined;
}

/** The unfinished task whose token is `token` (expired tokens have failed their runs). */
export function taskByToken(
  state: LinkState,
  lookup: TaskRecordLookup,
  token: string,
): Task | undefined {
  if (token === "") return undefined;
  const runId = state.getRunIdByToken(token);
  if (runId === undefined) return undefined;
  const task = currentTask(state, lookup.byRunId(runId));
  if (!task || task.status?.status === RunStatusValue.FINISHED) return undefined;
  return task;
}

/** starting → running. @returns false for an unknown task or one not starting. */
export function activateTask(state: LinkState, lookup: TaskRecordLookup, taskId: bigint): boolean {
  const record = lookup.byTaskId(taskId);
  if (!record) return false;
  const status = state.getRunStatus([record.runId]).get(record.runId);
  if (status?.status !== RunStatusValue.STARTING) return false;
  return state.updateRunStatus(record.runId, {
    status: RunStatusValue.RUNNING,
    subStatus: "",
    details: "",
  });
}

const SUB_STATUSES = new Set<string>(Object.values(RunSubStatus));

/**
 * Finishes an unfinished task with `subStatus` (completed only from running) and revokes its
 * token. @returns false for an unknown or finished task, a bad sub-status or transition.
 */
export function finishTask(
  state: LinkState,
  lookup: TaskRecordLookup,
  taskId: bigint,
  subStatus: string,
  details: string,
): boolean {
  if (!SUB_STATUSES.has(subStatus)) return false;
  const record = lookup.byTaskId(taskId);
  if (!record) return false;
  const finished = state.updateRunStatus(record.runId, {
    status: RunStatusValue.FINISHED,
    subStatus,
    details,
  });
  if (finished) state.deleteToken(record.runId);
  return finished;
}

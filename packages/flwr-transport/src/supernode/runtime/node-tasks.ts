/**
 * The SuperNode's Runtime API tasks (Flower 1.42's `flwr-clientapp` tasks, one per instruction:
 * `flwr/supernode/start_client_internal.py` creates a task for each received message), kept as a
 * view over the {@link NodeState} the ClientAppIo API serves:
 *
 * - a run with an instruction waiting and no app token is a pending `flwr-clientapp` task;
 *   AcquireTask claims it by creating the run's app token (valid 30 s, each heartbeat 60 s more,
 *   `NodeState`'s rules), so a 1.29 ClientAppIo SuperExec and a 1.42 Runtime SuperExec never
 *   both get the same instruction: whichever takes the token first serves it;
 * - the task is `starting` until PullTaskInput (→ `running`) and `finished` after
 *   PushTaskOutput, which deletes the token; a token that expires (the ClientApp died) ends the
 *   task, and NodeState answers the instruction with CLIENT_APP_CRASHED as for ClientAppIo;
 * - SuperExec nonces (`runtime-auth-middleware.ts`) are held here until their window closes.
 */
import { randomBytes } from "node:crypto";
import type { Task } from "@flwr-ts/core/proto/runtime";
import type { RuntimeAuthState } from "../../protocol/runtime/runtime-auth-middleware.js";
import { TaskType } from "../../protocol/runtime/runtime-definition.js";
import type { NodeState } from "../node-state.js";

/** Most log text kept per task (bytes of UTF-16 code units), oldest dropped first. */
export const MAX_TASK_LOG_CHARS = 1024 * 1024;

interface TaskRecord {
  task: Task;
  token: string;
  logs: string;
}

/** Task statuses (Flower's `Status`). */
const Status = {
  STARTING: "starting",
  RUNNING: "running",
  FINISHED: "finished",
} as const;

/** The SuperNode's Runtime tasks over a {@link NodeState}. */
export class NodeTasks implements RuntimeAuthState {
  private readonly byToken = new Map<string, TaskRecord>();
  private readonly nonces = new Map<string, number>();

  /**
   * @param state - the SuperNode's state (instructions, runs, FABs, contexts, tokens).
   * @param clock - wall clock, epoch ms.
   */
  constructor(
    readonly state: NodeState,
    private readonly clock: () => number = Date.now,
  ) {}

  private iso(): string {
    return new Date(this.clock()).toISOString();
  }

  /**
   * Claims the oldest run with a waiting instruction when `types` includes `flwr-clientapp`.
   * @returns the task (status `starting`) and its token, or undefined when there is none.
   */
  claim(types: readonly string[]): { task: Task; token: string } | undefined {
    this.prune();
    if (!types.includes(TaskType.CLIENT_APP)) return undefined;
    for (const runId of this.state.runIdsWithPendingMessages()) {
      const token = this.state.createToken(runId);
      if (token === undefined) continue;
      const now = this.iso();
      const task: Task = {
        taskId: randomBytes(8).readBigUInt64BE() >> 1n,
        type: TaskType.CLIENT_APP,
        runId,
        status: { status: Status.STARTING, subStatus: "", details: "" },
        pendingAt: now,
        startingAt: now,
        runningAt: "",
        finishedAt: "",
        fabHash: this.state.getRun(runId)?.fabHash,
      };
      this.byToken.set(token, { task, token, logs: "" });
      return { task: structuredClone(task), token };
    }
    return undefined;
  }

  /** The unfinished task of a current token (an expired or deleted token has none). */
  getTaskByToken(token: string): Task | undefined {
    const record = this.live(token);
    return record ? structuredClone(record.task) : undefined;
  }

  /** `starting` → `running`; false when the task is not starting (or gone). */
  activate(token: string): boolean {
    const record = this.live(token);
    if (record?.task.status?.status !== Status.STARTING) return false;
    record.task.status = { status: Status.RUNNING, subStatus: "", details: "" };
    record.task.runningAt = this.iso();
    return true;
  }

  /**
   * Finishes a running task with `subStatus` and deletes its token.
   * @returns false when the task is not running (or gone).
   */
  finish(token: string, subStatus: string, details: string): boolean {
    const record = this.live(token);
    if (record?.task.status?.status !== Status.RUNNING) return false;
    record.task.status = { status: Status.FINISHED, subStatus, details };
    record.task.finishedAt = this.iso();
    this.byToken.delete(token);
    this.state.deleteToken(record.task.runId);
    return true;
  }

  /** Appends a task's log text (PushLogs), keeping the last {@link MAX_TASK_LOG_CHARS}. */
  addLogs(token: string, text: string): void {
    const record = this.live(token);
    if (!record || text === "") return;
    const logs = record.logs + text;
    record.logs = logs.length > MAX_TASK_LOG_CHARS ? logs.slice(-MAX_TASK_LOG_CHARS) : logs;
  }

  /** The log text a task pushed so far ("" when unknown). */
  logsOf(token: string): string {
    return this.byToken.get(token)?.logs ?? "";
  }

  /** Reserves a SuperExec nonce until `expiresAt` (epoch s); false when already reserved. */
  reserveNonce(namespace: string, nonce: string, expiresAt: number): boolean {
    const now = this.clock() / 1000;
    for (const [key, until] of this.nonces) if (until <= now) this.nonces.delete(key);
    const key = `${namespace}\u0000${nonce}`;
    if (this.nonces.has(key)) return false;
    this.nonces.set(key, expiresAt);
    return true;
  }

  /** The record of a token the NodeState still holds for the task's run. */
  private live(token: string): TaskRecord | undefined {
    const record = this.byToken.get(token);
    if (!record) return undefined;
    if (this.state.getRunIdByToken(token) !== record.task.runId) {
      this.byToken.delete(token);
      return undefined;
    }
    return record;
  }

  /** Drops records whose tokens expired or were deleted. */
  private prune(): void {
    for (const token of [...this.byToken.keys()]) this.live(token);
  }
}

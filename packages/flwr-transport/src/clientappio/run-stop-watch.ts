/**
 * How a SuperNode learns that a run was stopped (`flwr stop`) while its ClientApp works: Flower's
 * wire has no push for it, so while an instruction of the run is with a ClientApp the SuperNode
 * asks the SuperLink for the run (Fleet GetRun, which carries its status) once a second; the
 * SuperExec asks its SuperNode the same way (ClientAppIo GetRun) for the runs of its app
 * processes. A `finished` run (stopped, failed, completed) ends the wait.
 */
import type { Run } from "@flwr-ts/core/proto";

/** Milliseconds between two status checks of a run that has work in progress. */
export const RUN_STATUS_POLL_MS = 1000;

/** True when `run` is known and finished (Flower's `Status.FINISHED`). */
export function runFinished(run: Run | undefined): run is Run {
  return run?.status?.status === "finished";
}

/** The instruction's run finished while its ClientApp was working: the reply is not wanted. */
export class RunStoppedError extends Error {
  /** The run. */
  readonly runId: bigint;

  /** @param run - the finished run as the SuperLink reported it. */
  constructor(run: Run) {
    const s = run.status;
    const why = s?.details ? ` (${s.details})` : "";
    super(
      `Run ${run.runId} is ${s?.status ?? "finished"}${s?.subStatus ? `:${s.subStatus}` : ""}${why}; its ClientApp is ended.`,
    );
    this.name = "RunStoppedError";
    this.runId = run.runId;
  }
}

/**
 * Resolves with the run once `getRun` reports it finished, checking every `intervalMs` until
 * `signal` aborts (then resolves with undefined). Failed checks (a SuperLink restarting) are
 * retried at the next tick.
 */
export function watchRunFinished(
  getRun: () => Promise<Run | undefined>,
  signal: AbortSignal,
  intervalMs: number = RUN_STATUS_POLL_MS,
): Promise<Run | undefined> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      clearTimeout(timer);
      resolve(undefined);
    };
    const tick = async () => {
      let run: Run | undefined;
      try {
        run = await getRun();
      } catch {
        run = undefined;
      }
      if (signal.aborted) return;
      if (runFinished(run)) {
        signal.removeEventListener("abort", onAbort);
        resolve(run);
        return;
      }
      timer = setTimeout(tick, intervalMs);
    };
    if (signal.aborted) return resolve(undefined);
    signal.addEventListener("abort", onAbort, { once: true });
    timer = setTimeout(tick, intervalMs);
  });
}

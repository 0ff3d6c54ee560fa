/**
 * The SuperExec's side of `flwr stop` for ClientApps: while app processes of a run are alive, the
 * run's status is asked of the AppIo API (GetRun, `clientappio/run-stop-watch.ts`) once a second;
 * when the run is finished its processes get SIGTERM, and SIGKILL after a grace period (a
 * ClientApp whose handler blocks its event loop, or one that ignores SIGTERM).
 */
import type { ChildProcess } from "node:child_process";
import type { Run } from "@flwr-ts/core/proto";
import { appLog } from "../app-runtime/app-log.js";
import { RUN_STATUS_POLL_MS, runFinished } from "../clientappio/run-stop-watch.js";

/** Milliseconds between SIGTERM and SIGKILL of an app process of a stopped run. */
export const STOPPED_APP_GRACE_MS = 2000;

/** Ends the app processes of runs that finished while they were working. */
export class StoppedRunReaper {
  private readonly children = new Map<ChildProcess, bigint>();
  private timer: NodeJS.Timeout | undefined;
  private checking = false;

  /**
   * @param getRun - the AppIo API's GetRun.
   * @param intervalMs - status check period.
   * @param graceMs - SIGTERM → SIGKILL delay.
   */
  constructor(
    private readonly getRun: (runId: bigint) => Promise<Run | undefined>,
    private readonly intervalMs: number = RUN_STATUS_POLL_MS,
    private readonly graceMs: number = STOPPED_APP_GRACE_MS,
  ) {}

  /** Watches `child` (an app process of `runId`) until it exits. */
  track(child: ChildProcess, runId: bigint): void {
    if (child.exitCode !== null || child.signalCode !== null) return;
    this.children.set(child, runId);
    child.once("exit", () => {
      this.children.delete(child);
      if (this.children.size === 0) this.pause();
    });
    this.timer ??= setInterval(() => void this.check(), this.intervalMs);
  }

  /** Stops watching (the processes are left alone). */
  close(): void {
    this.children.clear();
    this.pause();
  }

  private pause(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      for (const runId of new Set(this.children.values())) {
        let run: Run | undefined;
        try {
          run = await this.getRun(runId);
        } catch {
          continue; // the AppIo API restarting: next tick
        }
        if (!runFinished(run)) continue;
        for (const [child, id] of this.children) {
          if (id !== runId) continue;
          this.children.delete(child);
          appLog("INFO", `Run ${runId} finished: ending its app process ${child.pid}.`);
          child.kill("SIGTERM");
          const kill = setTimeout(() => child.kill("SIGKILL"), this.graceMs);
          kill.unref();
          child.once("exit", () => clearTimeout(kill));
        }
      }
      if (this.children.size === 0) this.pause();
    } finally {
      this.checking = false;
    }
  }
}

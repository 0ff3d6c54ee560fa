/**
 * A fixed pool of worker threads that run a ClientApp (`simulation-worker.ts`) for the virtual
 * SuperNodes of a simulation: tasks queue FIFO and go to the first idle thread. A task that
 * exceeds its time budget, or whose thread crashes, ends the thread; a fresh one replaces it so
 * that the pool keeps its size. Hand-written: the pool needs per-task budgets and replacement of
 * a thread stuck in synchronous code, which the usual pool libraries (piscina, workerpool) only
 * offer per pool or not at all.
 */
import type { Worker } from "node:worker_threads";
import { startModuleWorker } from "../app-runtime/module-worker.js";
import type { SimulationWorkerData, WorkerResult, WorkerTask } from "./simulation-worker.js";

/** What a task ended with: the worker's result, or a failure the pool observed. */
export type PoolOutcome =
  | WorkerResult
  | {
      readonly task: number;
      readonly ok: false;
      readonly reason: string;
      /** Why the pool ended it: over its time budget, its thread crashed, or it was cancelled. */
      readonly ended: "timeout" | "crashed" | "cancelled";
    };

/** Options of a {@link WorkerPool}. */
export interface WorkerPoolOptions {
  /** Number of threads (≥ 1). */
  readonly size: number;
  /** What every thread loads. */
  readonly workerData: SimulationWorkerData;
  /** Let the ClientApps' stdout/stderr through (Flower's `verbose`); default false. */
  readonly verbose?: boolean;
}

interface Queued {
  readonly task: WorkerTask;
  readonly budgetMs: number;
  readonly resolve: (outcome: PoolOutcome) => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  busy: (Queued & { timer: ReturnType<typeof setTimeout> | undefined }) | undefined;
}

/** The longest budget a timer accepts (≈ 24.8 days); longer budgets mean "none". */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A pool of ClientApp threads (see the module documentation). */
export class WorkerPool {
  private readonly options: WorkerPoolOptions;
  private readonly slots: Slot[] = [];
  private readonly queue: Queued[] = [];
  private nextTask = 1;
  private closed = false;

  private constructor(options: WorkerPoolOptions) {
    this.options = options;
  }

  /**
   * Starts `options.size` threads and waits until each has loaded the ClientApp.
   * @throws Error with the load error of the ClientApp (every thread is stopped then).
   */
  static async start(options: WorkerPoolOptions): Promise<WorkerPool> {
    if (!Number.isInteger(options.size) || options.size < 1)
      throw new RangeError(`worker pool size must be a positive integer, got ${options.size}`);
    const pool = new WorkerPool(options);
    try {
      await Promise.all(Array.from({ length: options.size }, () => pool.spawn()));
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  /** Number of threads. */
  get size(): number {
    return this.options.size;
  }

  /**
   * Queues a task.
   * @param budgetMs - how long the ClientApp may run once started (Infinity: no limit).
   * @returns the task id (for {@link WorkerPool.cancel}) and its outcome.
   */
  run(
    task: Omit<WorkerTask, "task">,
    budgetMs: number,
  ): { id: number; outcome: Promise<PoolOutcome> } {
    const id = this.nextTask++;
    const outcome = new Promise<PoolOutcome>((resolve) => {
      if (this.closed) {
        resolve({ task: id, ok: false, reason: "simulation engine closed", ended: "cancelled" });
        return;
      }
      this.queue.push({ task: { ...task, task: id }, budgetMs, resolve });
    });
    this.dispatch();
    return { id, outcome };
  }

  /** Cancels a queued or running task (a running one ends its thread, which is replaced). */
  cancel(id: number): void {
    const at = this.queue.findIndex((q) => q.task.task === id);
    if (at >= 0) {
      const [q] = this.queue.splice(at, 1);
      q!.resolve({ task: id, ok: false, reason: "cancelled", ended: "cancelled" });
      return;
    }
    const slot = this.slots.find((s) => s.busy?.task.task === id);
    if (slot) this.endBusy(slot, "cancelled", "cancelled");
  }

  /** Stops every thread; queued and running tasks end as cancelled. */
  async close(): Promise<void> {
    this.closed = true;
    for (const q of this.queue.splice(0))
      q.resolve({ task: q.task.task, ok: false, reason: "closed", ended: "cancelled" });
    const workers = this.slots.splice(0).map((s) => {
      if (s.busy) {
        if (s.busy.timer) clearTimeout(s.busy.timer);
        s.busy.resolve({ task: s.busy.task.task, ok: false, reason: "closed", ended: "cancelled" });
        s.busy = undefined;
      }
      return s.worker;
    });
    await Promise.all(workers.map((w) => w.terminate()));
  }

  private spawn(): Promise<void> {
    const worker = startModuleWorker(import.meta.url, "simulation-worker", {
      workerData: this.options.workerData,
      stdout: !this.options.verbose,
      stderr: !this.options.verbose,
    });
    if (!this.options.verbose) {
      worker.stdout.resume();
      worker.stderr.resume();
    }
    const slot: Slot = { worker, ready: false, busy: undefined };
    this.slots.push(slot);
    return new Promise<void>((resolve, reject) => {
      worker.on("message", (m: WorkerResult | { ready: true } | { loadError: string }) => {
        if ("ready" in m) {
          slot.ready = true;
          resolve();
          this.dispatch();
        } else if ("loadError" in m) {
          reject(new Error(m.loadError));
        } else if (slot.busy && slot.busy.task.task === m.task) {
          const busy = slot.busy;
          if (busy.timer) clearTimeout(busy.timer);
          slot.busy = undefined;
          busy.resolve(m);
          this.dispatch();
        }
      });
      worker.on("error", (error) => {
        if (!slot.ready) reject(error);
        else if (slot.busy) this.endBusy(slot, "crashed", formatCrash(error));
      });
      worker.on("exit", () => {
        if (!slot.ready) reject(new Error("the ClientApp worker exited while loading"));
        else if (slot.busy) this.endBusy(slot, "crashed", formatCrash("the thread exited"));
        else if (this.slots.includes(slot) && !this.closed) {
          // An idle thread died (an error escaped a ClientApp's detached promise): replace it.
          this.slots.splice(this.slots.indexOf(slot), 1);
          this.spawn().catch(() => {});
        }
      });
    });
  }

  /** Ends a slot's running task and replaces its thread. */
  private endBusy(slot: Slot, ended: "timeout" | "crashed" | "cancelled", reason: string): void {
    const busy = slot.busy;
    if (!busy) return;
    if (busy.timer) clearTimeout(busy.timer);
    slot.busy = undefined;
    const at = this.slots.indexOf(slot);
    if (at >= 0) this.slots.splice(at, 1);
    void slot.worker.terminate();
    busy.resolve({ task: busy.task.task, ok: false, reason, ended });
    if (!this.closed) {
      this.spawn().catch(() => {
        // The ClientApp loaded before; a replacement that cannot load leaves the pool smaller.
      });
    }
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (!slot.ready || slot.busy) continue;
      const q = this.queue.shift()!;
      const timer =
        q.budgetMs < MAX_TIMER_MS
          ? setTimeout(
              () =>
                this.endBusy(
                  slot,
                  "timeout",
                  `<class 'TimeoutError'>:<'ClientApp exceeded its time budget of ${(q.budgetMs / 1000).toFixed(1)} s'>`,
                ),
              Math.max(0, q.budgetMs),
            )
          : undefined;
      slot.busy = { ...q, timer };
      slot.worker.postMessage(q.task);
    }
  }
}

function formatCrash(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return `<class 'RuntimeError'>:<'ClientApp thread crashed: ${message}'>`;
}

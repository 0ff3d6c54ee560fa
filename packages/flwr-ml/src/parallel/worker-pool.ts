/**
 * A pool of training worker threads, started on first use and kept for later
 * jobs (starting one loads TensorFlow.js and compiles its WebAssembly, about a
 * second). Idle workers are `unref`'d: they never keep a process alive, and
 * {@link closeTrainingWorkers} ends them explicitly.
 *
 * A job is run either blocking the calling thread (`Atomics.wait`, for the
 * synchronous `train`/`test`) or awaiting (`Atomics.waitAsync`); workers
 * report through shared memory and their reply ports, which the coordinator
 * reads with `receiveMessageOnPort`, so neither way needs the event loop.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  MessageChannel,
  type MessagePort,
  receiveMessageOnPort,
  Worker,
} from "node:worker_threads";
import type { BackendChoice } from "../backend.js";
import type { Job, JobReply, WorkerInit } from "./protocol.js";
import { abort, CTL } from "./shared-sync.js";

/** A training worker could not start or died; the pool is closed. */
export class TrainingWorkerError extends Error {
  /** @param message - what happened and what to do. */
  constructor(message: string) {
    super(message);
    this.name = "TrainingWorkerError";
  }
}

/** Health slots: 0 starting/running, 1 failed to start or died. */
const FAILED = 1;

interface Member {
  worker: Worker;
  replies: MessagePort;
}

type WaitAsync = (
  array: Int32Array,
  index: number,
  value: number,
  timeout?: number,
) => { async: false; value: string } | { async: true; value: Promise<string> };

/** How a worker thread is started: compiled JS directly, TS sources through tsx. */
function entryScript(): { code: string; execArgv?: string[] } {
  const here = import.meta.url;
  if (here.endsWith(".js")) {
    return { code: `await import(${JSON.stringify(new URL("./training-worker.js", here).href)});` };
  }
  // Running from TypeScript sources (tests, tsx): the worker registers tsx's
  // loader itself (a worker does not inherit the parent's loader hooks).
  let api: string;
  try {
    const tsx = dirname(createRequire(fileURLToPath(here)).resolve("tsx/package.json"));
    api = pathToFileURL(join(tsx, "dist", "esm", "api", "index.mjs")).href;
  } catch {
    throw new TrainingWorkerError(
      "training workers started from TypeScript sources need the `tsx` package; build the package (dist) or train with workers: 1",
    );
  }
  const entry = new URL("./training-worker.ts", here).href;
  return {
    code: `const { register } = await import(${JSON.stringify(api)}); register(); await import(${JSON.stringify(entry)});`,
    execArgv: [],
  };
}

/** Worker threads with one TensorFlow.js backend each. */
export class WorkerPool {
  private readonly members: Member[] = [];
  /** Per worker: {@link FAILED} once it failed to start or exited. */
  private readonly health = new Int32Array(new SharedArrayBuffer(4 * 64));
  private failure: string | undefined;
  private running = false;
  /** Settles when the last queued asynchronous job has ended. */
  private queue: Promise<void> = Promise.resolve();
  /** Asynchronous jobs queued or running. */
  private pendingAsync = 0;
  private closed = false;

  /** @param backend - the backend each worker initialises. */
  constructor(readonly backend: BackendChoice) {}

  /** Workers started so far. */
  get size(): number {
    return this.members.length;
  }

  /** True once closed or broken (a new pool is needed). */
  get unusable(): boolean {
    return this.closed || this.failure !== undefined;
  }

  private spawn(index: number): Member {
    const { code, execArgv } = entryScript();
    const channel = new MessageChannel();
    // On a failed start the bootstrap reports on the reply port and marks
    // itself failed, so a blocked coordinator notices.
    const bootstrap = `import { workerData } from "node:worker_threads";
try { ${code} } catch (error) {
  workerData.replies.postMessage({ ok: false, worker: ${index}, error: String(error && error.stack || error), aborted: false });
  Atomics.store(workerData.health, ${index}, ${FAILED});
  Atomics.notify(workerData.health, ${index});
  throw error;
}`;
    const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`), {
      workerData: {
        backend: this.backend,
        replies: channel.port2,
        health: this.health,
      } satisfies WorkerInit,
      transferList: [channel.port2],
      ...(execArgv ? { execArgv } : {}),
    });
    worker.unref();
    channel.port1.unref();
    const onDeath = (why: string) => {
      Atomics.store(this.health, index, FAILED);
      this.failure ??= `training worker ${index} ${why}`;
    };
    worker.on("error", (error) => onDeath(`failed: ${error.stack ?? error.message}`));
    worker.on("exit", (code) => {
      if (!this.closed) onDeath(`exited (code ${code})`);
    });
    return { worker, replies: channel.port1 };
  }

  /** Starts workers until there are `n` (at most 64). */
  private ensure(n: number): void {
    if (n > 64) throw new TrainingWorkerError(`at most 64 training workers, asked for ${n}`);
    while (this.members.length < n) this.members.push(this.spawn(this.members.length));
  }

  private begin(jobs: Job[]): Int32Array {
    if (this.unusable) throw new TrainingWorkerError("the training worker pool is closed");
    if (this.running) {
      throw new TrainingWorkerError(
        "a train/test call is already running on the training workers (called from a progress callback?)",
      );
    }
    this.ensure(jobs.length);
    this.running = true;
    jobs.forEach((job, i) => {
      const m = this.members[i] as Member;
      m.worker.ref();
      m.worker.postMessage(job);
    });
    return (jobs[0] as Job).ctl;
  }

  /** Throws (and closes the pool) when a worker failed to start or died. */
  private checkHealth(ctl: Int32Array, n: number): void {
    for (let i = 0; i < n; i++) {
      if (Atomics.load(this.health, i) !== FAILED) continue;
      const m = this.members[i];
      const reply = (m && receiveMessageOnPort(m.replies))?.message as JobReply | undefined;
      const why =
        reply && !reply.ok ? reply.error : (this.failure ?? `training worker ${i} stopped`);
      this.failure ??= why;
      abort(ctl);
      void this.close();
      throw new TrainingWorkerError(
        `a training worker failed to start or died: ${why}\n(train with workers: 1 or FLWR_TRAIN_WORKERS=1 to run in-process)`,
      );
    }
  }

  private finish(n: number): void {
    this.running = false;
    for (let i = 0; i < n; i++) this.members[i]?.worker.unref();
    const replies: JobReply[] = [];
    for (let i = 0; i < n; i++) {
      const m = this.members[i];
      const r = m && receiveMessageOnPort(m.replies);
      if (r) replies.push(r.message as JobReply);
    }
    const failed = replies.filter((r) => !r.ok);
    const first = failed.find((r) => !r.aborted) ?? failed[0];
    if (first && !first.ok) {
      throw new TrainingWorkerError(`training worker ${first.worker} failed: ${first.error}`);
    }
    if (replies.length < n)
      throw new TrainingWorkerError(`only ${replies.length} of ${n} training workers replied`);
  }

  /**
   * Runs one job per worker (job i on worker i), blocking this thread until
   * all are done; `onSignal` is called on every progress signal.
   */
  runSync(jobs: Job[], onSignal: () => void): void {
    if (this.pendingAsync > 0) {
      throw new TrainingWorkerError(
        "the training workers are busy with a trainAsync/testAsync call; await it before a synchronous train/test",
      );
    }
    const ctl = this.begin(jobs);
    const n = jobs.length;
    try {
      for (;;) {
        const seen = Atomics.load(ctl, CTL.signal);
        onSignal();
        if (Atomics.load(ctl, CTL.done) >= n) break;
        this.checkHealth(ctl, n);
        Atomics.wait(ctl, CTL.signal, seen, 250);
      }
    } catch (error) {
      this.running = false;
      throw error;
    }
    this.finish(n);
  }

  /**
   * {@link runSync} without blocking: the event loop runs while the workers
   * compute. Concurrent calls are queued (one job at a time on the pool).
   */
  run(jobs: Job[], onSignal: () => void): Promise<void> {
    this.pendingAsync++;
    const result = this.queue
      .then(() => this.runNow(jobs, onSignal))
      .finally(() => {
        this.pendingAsync--;
      });
    this.queue = result.catch(() => {});
    return result;
  }

  private async runNow(jobs: Job[], onSignal: () => void): Promise<void> {
    const ctl = this.begin(jobs);
    const n = jobs.length;
    const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;
    try {
      for (;;) {
        const seen = Atomics.load(ctl, CTL.signal);
        onSignal();
        if (Atomics.load(ctl, CTL.done) >= n) break;
        this.checkHealth(ctl, n);
        const r = waitAsync(ctl, CTL.signal, seen, 250);
        if (r.async) await r.value;
      }
    } catch (error) {
      this.running = false;
      throw error;
    }
    this.finish(n);
  }

  /** Ends every worker. */
  async close(): Promise<void> {
    this.closed = true;
    const members = this.members.splice(0);
    await Promise.all(
      members.map(async (m) => {
        m.replies.close();
        await m.worker.terminate();
      }),
    );
  }
}

let shared: WorkerPool | undefined;

/** The process's pool for `backend` (a new one if the last was closed or broken). */
export function trainingWorkerPool(backend: BackendChoice): WorkerPool {
  if (!shared || shared.unusable || shared.backend !== backend) {
    if (shared && !shared.unusable) void shared.close();
    shared = new WorkerPool(backend);
  }
  return shared;
}

/**
 * Ends the training worker threads (started by `train`/`test` with more than
 * one worker). Optional: idle workers never keep the process alive. The next
 * parallel call starts new ones.
 */
export async function closeTrainingWorkers(): Promise<void> {
  const pool = shared;
  shared = undefined;
  await pool?.close();
}

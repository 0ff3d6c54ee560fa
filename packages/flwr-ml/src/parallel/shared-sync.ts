/**
 * Synchronisation of training workers over shared Int32Arrays: an abort flag,
 * an event counter the coordinator waits on, and waits for a counter to reach
 * a target. Waiting blocks the thread in the kernel (futex), never spins: the
 * cores are shared and a spinning waiter would steal time from the thread it
 * waits for.
 */

/** Int32 slots of the control array. */
export const CTL = {
  /** 1 once any worker failed: everyone stops. */
  abort: 0,
  /** Steps (train) completed and published. */
  progress: 1,
  /** Workers that finished their part of the job. */
  done: 2,
  /** Incremented on every progress, done or abort: the coordinator waits on it. */
  signal: 3,
} as const;

/** Length of the control array. */
export const CTL_LENGTH = 4;

/** Longest single wait: waiters re-check the abort flag at least this often (ms). */
const WAIT_SLICE_MS = 50;

/** Thrown in a worker whose job was aborted because another worker failed. */
export class JobAbortedError extends Error {
  constructor() {
    super("job aborted: another worker failed");
    this.name = "JobAbortedError";
  }
}

/** Bumps the event counter and wakes the coordinator. */
export function signal(ctl: Int32Array): void {
  Atomics.add(ctl, CTL.signal, 1);
  Atomics.notify(ctl, CTL.signal);
}

/** Marks the job aborted and wakes the coordinator (workers notice within a wait slice). */
export function abort(ctl: Int32Array): void {
  Atomics.store(ctl, CTL.abort, 1);
  signal(ctl);
}

/**
 * Blocks until `array[index] >= target`; throws {@link JobAbortedError} when
 * the job is aborted meanwhile.
 */
export function waitAtLeast(
  ctl: Int32Array,
  array: Int32Array,
  index: number,
  target: number,
): void {
  for (;;) {
    const v = Atomics.load(array, index);
    if (v >= target) return;
    if (Atomics.load(ctl, CTL.abort) !== 0) throw new JobAbortedError();
    Atomics.wait(array, index, v, WAIT_SLICE_MS);
  }
}

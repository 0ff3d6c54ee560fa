/**
 * Synchronisation of training workers over a shared Int32Array: a reusable
 * barrier, an abort flag, and an event counter the coordinator waits on.
 * Waiting blocks the thread in the kernel (futex), never spins: the cores are
 * shared and a spinning waiter would steal time from the thread it waits for.
 */

/** Int32 slots of the control array. */
export const CTL = {
  /** Workers arrived at the barrier in the current generation. */
  barrierCount: 0,
  /** Barrier generation (incremented when all have arrived). */
  barrierGeneration: 1,
  /** 1 once any worker failed: everyone stops. */
  abort: 2,
  /** Steps (train) completed and published by worker 0. */
  progress: 3,
  /** Workers that finished their part of the job. */
  done: 4,
  /** Incremented on every progress, done or abort: the coordinator waits on it. */
  signal: 5,
} as const;

/** Length of the control array. */
export const CTL_LENGTH = 8;

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

/** Marks the job aborted and wakes every waiter (barrier and coordinator). */
export function abort(ctl: Int32Array): void {
  Atomics.store(ctl, CTL.abort, 1);
  Atomics.add(ctl, CTL.barrierGeneration, 1);
  Atomics.notify(ctl, CTL.barrierGeneration);
  signal(ctl);
}

/**
 * Waits until `parties` threads have called it (generation barrier); throws
 * {@link JobAbortedError} when the job is aborted meanwhile.
 */
export function arriveAndWait(ctl: Int32Array, parties: number): void {
  const generation = Atomics.load(ctl, CTL.barrierGeneration);
  if (Atomics.load(ctl, CTL.abort) !== 0) throw new JobAbortedError();
  if (Atomics.add(ctl, CTL.barrierCount, 1) === parties - 1) {
    Atomics.store(ctl, CTL.barrierCount, 0);
    Atomics.add(ctl, CTL.barrierGeneration, 1);
    Atomics.notify(ctl, CTL.barrierGeneration);
  } else {
    while (Atomics.load(ctl, CTL.barrierGeneration) === generation) {
      Atomics.wait(ctl, CTL.barrierGeneration, generation);
    }
  }
  if (Atomics.load(ctl, CTL.abort) !== 0) throw new JobAbortedError();
}

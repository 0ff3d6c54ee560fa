/**
 * How app processes read AppIo errors: PERMISSION_DENIED means the run is no longer running
 * (stopped by the user, or failed); UNAVAILABLE is worth retrying.
 */
import { status } from "@grpc/grpc-js";
import { isServiceError } from "../grpc/rpc-error.js";

/** The run is not running any more (Flower's `RunNotRunningException`). */
export class RunNotRunningError extends Error {
  constructor(details: string) {
    super(`The run is not running: ${details}`);
    this.name = "RunNotRunningError";
  }
}

/** Converts PERMISSION_DENIED into {@link RunNotRunningError}; other errors pass through. */
export function translateAppIoError(error: unknown): unknown {
  if (isServiceError(error) && error.code === status.PERMISSION_DENIED)
    return new RunNotRunningError(error.details);
  return error;
}

/**
 * Calls `fn`, retrying UNAVAILABLE up to `tries` times with doubling delays (50 ms … 2 s), as
 * Flower's app processes retry their AppIo stubs.
 */
export async function withAppIoRetry<T>(fn: () => Promise<T>, tries = 8): Promise<T> {
  let delay = 50;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!(isServiceError(error) && error.code === status.UNAVAILABLE) || attempt >= tries)
        throw translateAppIoError(error);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 2000);
    }
  }
}

/**
 * How app processes read AppIo errors: PERMISSION_DENIED means the run is no longer running
 * (stopped by the user, or failed); UNAVAILABLE is worth retrying. Both, and CANCELLED, are
 * expected ends of an app process (its SuperNode stopped, was unregistered, the run was stopped):
 * {@link expectedAppIoEnd} gives them one line instead of a stack trace.
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

/**
 * One line for an error that ends an app process in an expected way — the run is not running any
 * more, or the AppIo API at `address` went away (UNAVAILABLE, CANCELLED: its SuperNode or
 * SuperLink stopped) — or undefined for any other error (a bug: worth its stack trace).
 */
export function expectedAppIoEnd(error: unknown, address: string): string | undefined {
  if (error instanceof RunNotRunningError) return `${error.message.replace(/\.$/, "")}; exiting.`;
  if (
    isServiceError(error) &&
    (error.code === status.UNAVAILABLE || error.code === status.CANCELLED)
  ) {
    const name = error.code === status.UNAVAILABLE ? "UNAVAILABLE" : "CANCELLED";
    return `the AppIo API at ${address} went away (${error.code} ${name}: ${error.details}); its SuperNode or SuperLink stopped. Exiting.`;
  }
  return undefined;
}

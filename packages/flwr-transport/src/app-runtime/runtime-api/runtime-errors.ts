/**
 * How an app process of a Flower 1.42 SuperLink's Runtime API reads its errors, as 1.42's
 * `make_simple_http_retry_invoker` (`flwr/supercore/retry/http_retry.py`) does:
 *
 * - 401 (`RUNTIME_AUTHENTICATION_FAILED`, 1008): the task token is gone — the run was stopped
 *   (`stop_run` finishes the primary task and revokes its token) or the task expired. 1.42's
 *   ServerApp then stops itself (SIGINT); flwr-ts reports it as {@link RunNotRunningError}.
 * - 403: the run is not running (1.42 raises `RunNotRunningException`): {@link RunNotRunningError}.
 * - transport failures and 502/503/504 are retried with doubling delays.
 */
import { Code } from "../../wire/code.js";
import { isServiceError } from "../../wire/rpc-error.js";
import { RunNotRunningError } from "../appio-errors.js";

/** Flower's `ApiErrorCode.RUNTIME_AUTHENTICATION_FAILED` (`flwr/supercore/error/base.py`). */
export const RUNTIME_AUTHENTICATION_FAILED = 1008;
/** Flower's `ApiErrorCode.RUNTIME_TASK_START_FAILED`: PullTaskInput refused to start the task. */
export const RUNTIME_TASK_START_FAILED = 3002;

/** True when `error` says the task's token is no longer valid (HTTP 401). */
export function isTaskTokenRevoked(error: unknown): boolean {
  return isServiceError(error) && error.code === Code.UNAUTHENTICATED;
}

/**
 * Converts a revoked token (401) or a not-running run (403) into {@link RunNotRunningError};
 * other errors pass through.
 */
export function translateRuntimeError(error: unknown): unknown {
  if (!isServiceError(error)) return error;
  if (error.code === Code.UNAUTHENTICATED)
    return new RunNotRunningError(`the SuperLink revoked the task token (${error.details})`);
  if (error.code === Code.PERMISSION_DENIED) return new RunNotRunningError(error.details);
  return error;
}

/** True for the failures 1.42's clients retry: transport errors, 503 and 504. */
function retryable(error: unknown): boolean {
  return (
    isServiceError(error) &&
    (error.code === Code.UNAVAILABLE || error.code === Code.DEADLINE_EXCEEDED)
  );
}

/**
 * Calls `fn`, retrying retryable failures up to `tries` times with doubling delays (100 ms …
 * 5 s), then throws the {@link translateRuntimeError} form of the last error.
 */
export async function withRuntimeRetry<T>(fn: () => Promise<T>, tries = 10): Promise<T> {
  let delay = 100;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!retryable(error) || attempt >= tries) throw translateRuntimeError(error);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 5000);
    }
  }
}

/**
 * The errors the SuperLink's Runtime API answers, as Flower 1.42 answers them
 * (`flwr/supercore/error/base.py` codes, `catalog.py` statuses and public messages): the
 * details of each `RpcError` are the catalog's public message, so the HTTP body is exactly
 * 1.42's `{"code": <code>, "detail": <message>}` (no `extra`, which 1.42 does not send for
 * these either; the internal cause goes to the SuperLink's log only).
 */
import { Code } from "../../wire/code.js";
import { RpcError } from "../../wire/rpc-error.js";

/** Flower 1.42's Runtime `ApiErrorCode`s that the SuperLink answers. */
export const RuntimeApiErrorCode = {
  /** 401: a missing, forged, stale or replayed SuperExec signature, or a bad task token. */
  RUNTIME_AUTHENTICATION_FAILED: 1008,
  /** 412: PullTaskInput for a task that cannot start (not starting, no FAB or context). */
  RUNTIME_TASK_START_FAILED: 3002,
  /** 412: an object call naming another node than the SuperLink's. */
  RUNTIME_UNEXPECTED_NODE_ID: 3004,
  /** 400: PushMessages with no messages or with lists of different lengths. */
  RUNTIME_INVALID_MESSAGE_COUNT: 3013,
} as const;

/** 401 {1008} "Authentication failed." */
export function runtimeAuthenticationFailed(): RpcError {
  return new RpcError(Code.UNAUTHENTICATED, "Authentication failed.", {
    apiErrorCode: RuntimeApiErrorCode.RUNTIME_AUTHENTICATION_FAILED,
  });
}

/** 412 {3002} "Failed to start task." */
export function taskStartFailed(): RpcError {
  return new RpcError(Code.FAILED_PRECONDITION, "Failed to start task.", {
    apiErrorCode: RuntimeApiErrorCode.RUNTIME_TASK_START_FAILED,
  });
}

/** 412 {3004} "Unexpected node ID." */
export function unexpectedNodeId(): RpcError {
  return new RpcError(Code.FAILED_PRECONDITION, "Unexpected node ID.", {
    apiErrorCode: RuntimeApiErrorCode.RUNTIME_UNEXPECTED_NODE_ID,
  });
}

/** 400 {3013} "Invalid number of messages or message object trees." */
export function invalidMessageCount(): RpcError {
  return new RpcError(
    Code.INVALID_ARGUMENT,
    "Invalid number of messages or message object trees.",
    { apiErrorCode: RuntimeApiErrorCode.RUNTIME_INVALID_MESSAGE_COUNT },
  );
}

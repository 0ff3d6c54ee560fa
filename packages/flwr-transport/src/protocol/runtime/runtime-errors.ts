/**
 * The errors the Runtime API (SuperLink's and SuperNode's) answers, as Flower 1.42 answers them
 * (`flwr/supercore/error/base.py` codes, `catalog.py` statuses and public messages): the
 * details of each `RpcError` are the catalog's public message, so the HTTP body is exactly
 * 1.42's `{"code": <code>, "detail": <message>}` (no `extra`, which 1.42 does not send for
 * these either; the internal cause goes to the SuperLink's log only).
 */
import { Code } from "../../wire/code.js";
import { RpcError } from "../../wire/rpc-error.js";

/** Flower 1.42's Runtime `ApiErrorCode`s that the SuperLink and SuperNode answer. */
export const RuntimeApiErrorCode = {
  /** 401: a missing, forged, stale or replayed SuperExec signature, or a bad task token. */
  RUNTIME_AUTHENTICATION_FAILED: 1008,
  /** 412: PullTaskInput for a task that cannot start (not starting, no FAB or context). */
  RUNTIME_TASK_START_FAILED: 3002,
  /** 412: an object call naming another node than the SuperLink's. */
  RUNTIME_UNEXPECTED_NODE_ID: 3004,
  /** 400: PushMessages with no messages or with lists of different lengths. */
  RUNTIME_INVALID_MESSAGE_COUNT: 3013,
  /** 403: an endpoint not for this task (GetNodes from a ClientApp). */
  RUNTIME_ENDPOINT_UNAVAILABLE: 3005,
  /** 404: the task's run is not in the state. */
  RUN_ID_NOT_FOUND: 16,
  /** 404: the task's run has no context. */
  RUNTIME_RUN_SERIES_CONTEXT_NOT_FOUND: 3011,
  /** 404: the task's FAB is not in the state. */
  RUNTIME_FAB_NOT_FOUND: 3012,
  /** 403: a pushed message of another run than the task's. */
  RUNTIME_MESSAGE_RUN_ID_MISMATCH: 3014,
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

/** 403 {3005}: GetNodes from a ClientApp task. */
export function endpointUnavailable(): RpcError {
  return new RpcError(
    Code.PERMISSION_DENIED,
    "Some Runtime API endpoints are only available for Deployment Runtime runs.",
    { apiErrorCode: RuntimeApiErrorCode.RUNTIME_ENDPOINT_UNAVAILABLE },
  );
}

/** 404 {16} "Run ID not found." */
export function runIdNotFound(): RpcError {
  return new RpcError(Code.NOT_FOUND, "Run ID not found.", {
    apiErrorCode: RuntimeApiErrorCode.RUN_ID_NOT_FOUND,
  });
}

/** 404 {3011} "Run series context not found." */
export function contextNotFound(): RpcError {
  return new RpcError(Code.NOT_FOUND, "Run series context not found.", {
    apiErrorCode: RuntimeApiErrorCode.RUNTIME_RUN_SERIES_CONTEXT_NOT_FOUND,
  });
}

/** 404 {3012} "FAB not found." */
export function fabNotFound(): RpcError {
  return new RpcError(Code.NOT_FOUND, "FAB not found.", {
    apiErrorCode: RuntimeApiErrorCode.RUNTIME_FAB_NOT_FOUND,
  });
}

/** 403 {3014}: a message of another run than the authenticated task's. */
export function messageRunIdMismatch(): RpcError {
  return new RpcError(
    Code.PERMISSION_DENIED,
    "Message run ID does not match the authenticated task.",
    { apiErrorCode: RuntimeApiErrorCode.RUNTIME_MESSAGE_RUN_ID_MISMATCH },
  );
}

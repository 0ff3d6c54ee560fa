/**
 * Flower 1.42's API error contract on the HTTP wire (`flwr/supercore/error/base.py`,
 * `catalog.py`, `http.py`): a failed call is answered with a JSON body
 * `{"code": <ApiErrorCode>, "detail": <public message>, "extra"?: <public details>}` and the
 * catalog's HTTP status; FastAPI's own errors (401 of node auth, 404 of an unknown route) are
 * `{"detail": …}` without a code. Only the codes flwr-ts answers or reads are listed.
 */

/** Flower's `ApiErrorCode` values that flwr-ts uses. */
export const ApiErrorCode = {
  RUN_ID_NOT_FOUND: 16,
  RUN_ALREADY_FINISHED: 18,
  PUBLIC_KEY_NOT_VALID: 22,
  PUBLIC_KEY_ALREADY_IN_USE: 23,
  NODE_NOT_FOUND: 24,
  NODE_NOT_FOUND_OR_NOT_OWNER: 28,
  RUNTIME_VERSION_INCOMPATIBLE: 1001,
  UNSUPPORTED_CONTENT_TYPE: 1002,
  INVALID_PROTOBUF_PAYLOAD: 1003,
  FLEET_SUPERNODE_REGISTRATION_DISABLED: 2001,
  FLEET_SUPERNODE_UNREGISTRATION_DISABLED: 2002,
  FLEET_INVALID_HEARTBEAT_INTERVAL: 2003,
  FLEET_NODE_ACTIVATION_FAILED: 2004,
  FLEET_NODE_DEACTIVATION_FAILED: 2005,
  FLEET_NODE_UNREGISTRATION_FAILED: 2006,
  FLEET_RUN_STATUS_NOT_ALLOWED: 2007,
  FLEET_GET_RUN_FAILED: 2008,
  FLEET_GET_FAB_FAILED: 2009,
} as const;

/** The public message Flower sends for each code (catalog.py), used as `detail`. */
export const API_ERROR_PUBLIC_MESSAGES: Readonly<Record<number, string>> = {
  16: "Run ID not found.",
  18: "Run is already finished.",
  22: "The provided public key is not valid.",
  23: "Public key already in use.",
  24: "Node ID not found for account.",
  28: "Node not found or you are not its owner.",
  1001: "Runtime version compatibility check failed.",
  1002: "Unsupported Content-Type.",
  1003: "Invalid protobuf payload.",
  2001: "SuperNode authentication is enabled. All SuperNodes must be registered via the CLI.",
  2002: "SuperNode authentication is enabled. All SuperNodes must be unregistered via the CLI.",
  2003: "Invalid heartbeat interval.",
  2004: "Failed to activate SuperNode.",
  2005: "Failed to deactivate SuperNode.",
  2006: "Failed to unregister SuperNode.",
  2007: "The current run status does not allow this Fleet API operation.",
  2008: "Failed to get run.",
  2009: "Failed to get FAB.",
};

/** Flower's message of an internal error (`http.py`). */
export const INTERNAL_SERVER_ERROR_MESSAGE = "Internal server error.";

/** A decoded HTTP error body. */
export interface ApiErrorBody {
  /** Flower's ApiErrorCode, when the body has one. */
  readonly code?: number;
  /** The public message (FastAPI's `detail`). */
  readonly detail: string;
  /** Flower's `extra` (public details), when present. */
  readonly extra?: string;
}

/** The JSON error body of a failed call. */
export function encodeApiError(body: ApiErrorBody): string {
  return JSON.stringify(body);
}

/**
 * Reads an error body; undefined when it is not Flower's or FastAPI's JSON shape. A FastAPI
 * validation `detail` (a list) becomes its JSON text.
 */
export function decodeApiError(text: string): ApiErrorBody | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || !("detail" in value)) return undefined;
  const v = value as { code?: unknown; detail: unknown; extra?: unknown };
  const detail = typeof v.detail === "string" ? v.detail : JSON.stringify(v.detail);
  return {
    ...(typeof v.code === "number" && Number.isInteger(v.code) ? { code: v.code } : {}),
    detail,
    ...(typeof v.extra === "string" ? { extra: v.extra } : {}),
  };
}

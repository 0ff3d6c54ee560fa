/** The error a reply message can carry instead of content (Python Flower's `Error`). */
import { MessageValidationError } from "./errors.js";

/** Error codes used by Flower (`flwr.common.constant.ErrorCode`). */
export const ErrorCode = {
  /** Unknown error. */
  UNKNOWN: 0n,
  /** The ClientApp could not be loaded. */
  LOAD_CLIENT_APP_EXCEPTION: 1n,
  /** The ClientApp raised an exception; reason `<class 'X'>:<'msg'>`. */
  CLIENT_APP_RAISED_EXCEPTION: 2n,
  /** The instruction is unknown or expired (synthesized by the SuperLink). */
  MESSAGE_UNAVAILABLE: 3n,
  /** The reply expired (synthesized by the SuperLink). */
  REPLY_MESSAGE_UNAVAILABLE: 4n,
  /** The destination node went offline (synthesized by the SuperLink). */
  NODE_UNAVAILABLE: 5n,
  /** A mod's precondition failed. */
  MOD_FAILED_PRECONDITION: 6n,
  /** The FAB is invalid. */
  INVALID_FAB: 7n,
  /** The ClientApp process crashed. */
  CLIENT_APP_CRASHED: 8n,
} as const;

/**
 * An error carried by a message (a data record, not a thrown exception; named `MessageError`
 * so that it does not shadow the JavaScript global `Error`).
 */
export class MessageError {
  /** Error code (proto `sint64`), see {@link ErrorCode}. */
  readonly code: bigint;
  /** Reason, or `undefined` (sent as `""`). */
  readonly reason: string | undefined;

  /**
   * @param code - error code; a `number` must be an integer.
   * @param reason - optional explanation.
   * @throws MessageValidationError for a non-integer or out-of-range code.
   */
  constructor(code: bigint | number, reason?: string) {
    const c = typeof code === "number" && Number.isInteger(code) ? BigInt(code) : code;
    if (typeof c !== "bigint" || c < -(1n << 63n) || c >= 1n << 63n) {
      throw new MessageValidationError(
        `error code must be a 64-bit signed integer, got ${String(code)}`,
      );
    }
    if (reason !== undefined && typeof reason !== "string") {
      throw new MessageValidationError("error reason must be a string");
    }
    this.code = c;
    this.reason = reason === "" ? undefined : reason;
  }
}

/**
 * The error of a failed call, on either wire: handlers throw it, clients of both wires throw it.
 */
import { Code } from "./code.js";

/** Options of {@link RpcError}. */
export interface RpcErrorOptions {
  /**
   * Flower 1.42's `ApiErrorCode` (`flwr/supercore/error/base.py`), sent as `code` of the JSON
   * error body on the HTTP wire; absent on gRPC, which carries only the status.
   */
  readonly apiErrorCode?: number;
}

/**
 * An error a handler throws to end a call with a specific status, e.g.
 * `throw new RpcError(Code.FAILED_PRECONDITION, "Public key already in use")`.
 * Any other thrown value ends the call with INTERNAL and a generic message.
 */
export class RpcError extends Error {
  /** The status code (gRPC numbering). */
  readonly code: Code;
  /** The status details sent to the client. */
  readonly details: string;
  /** Flower's API error code on the HTTP wire, when the handler names one. */
  readonly apiErrorCode: number | undefined;

  constructor(code: Code, details: string, options: RpcErrorOptions = {}) {
    super(details);
    this.name = "RpcError";
    this.code = code;
    this.details = details;
    this.apiErrorCode = options.apiErrorCode;
  }
}

/**
 * True when `error` carries a numeric status `code` and `details`: an {@link RpcError}, a grpc-js
 * `ServiceError`, or an error thrown by the HTTP client.
 */
export function isServiceError(error: unknown): error is Error & { code: Code; details: string } {
  return error instanceof Error && typeof (error as { code?: unknown }).code === "number";
}

export { Code };

import type { status } from "@grpc/grpc-js";

/**
 * An error a handler throws to end an rpc with a specific gRPC status, e.g.
 * `throw new RpcError(status.FAILED_PRECONDITION, "Public key already in use")`.
 * Any other thrown value ends the rpc with INTERNAL and a generic message.
 */
export class RpcError extends Error {
  /** The gRPC status code sent to the client. */
  readonly code: status;
  /** The status details sent to the client. */
  readonly details: string;

  constructor(code: status, details: string) {
    super(details);
    this.name = "RpcError";
    this.code = code;
    this.details = details;
  }
}

/** True when `error` looks like a grpc-js `ServiceError` (has a numeric `code`). */
export function isServiceError(error: unknown): error is Error & { code: status; details: string } {
  return error instanceof Error && typeof (error as { code?: unknown }).code === "number";
}

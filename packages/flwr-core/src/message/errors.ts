/** Typed errors raised when building or validating messages. */

/** A message, its metadata or a context has invalid fields. */
export class MessageValidationError extends Error {
  /** Stable machine-readable code. */
  readonly code = "message-invalid";

  /** @param message - what is wrong and what to do. */
  constructor(message: string) {
    super(message);
    this.name = "MessageValidationError";
  }
}

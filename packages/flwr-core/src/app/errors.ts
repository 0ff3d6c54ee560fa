/** Errors raised by ClientApp and ServerApp registration and routing. */

/**
 * A ClientApp/ServerApp was used incorrectly (bad registration, duplicate handler, missing
 * main function, a handler returning something other than a Message).
 */
export class AppError extends Error {
  override name = "AppError";
}

/**
 * A message could not be routed to a registered handler: its type is invalid or no handler
 * is registered for its category and action.
 *
 * Its `name` is `"ValueError"` on purpose: Python Flower raises a `ValueError` here, and the
 * error reply's reason (`<class 'ValueError'>:<'No train function registered with name
 * 'foo''>`) is then byte-identical to what a Python ClientApp sends.
 */
export class ClientAppRoutingError extends Error {
  override name = "ValueError";
}

/**
 * Formats a thrown value as Python Flower formats an exception in an error reply:
 * `<class 'Name'>:<'message'>` (`str(type(ex)) + ":<'" + str(ex) + "'>"`). For JavaScript
 * errors the class name is the error's `name` (`TypeError`, `RangeError`, custom names).
 */
export function formatExceptionReason(err: unknown): string {
  let name: string;
  let message: string;
  if (err instanceof Error) {
    name = err.name || err.constructor?.name || "Error";
    message = err.message;
  } else {
    name = err === null ? "null" : typeof err;
    message = String(err);
  }
  return `<class '${name}'>:<'${message}'>`;
}

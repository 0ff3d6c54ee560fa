/** Errors that end a SuperNode. */
import { ExitCode } from "../cli/exit-codes.js";

/** A condition the SuperNode cannot recover from; the process should print it and exit. */
export class SuperNodeFatalError extends Error {
  /** Flower's exit code for it, when Flower defines one (the process exits with status 1). */
  readonly exitCode: number | undefined;

  /**
   * @param message - one line: what happened and what to do.
   * @param exitCode - Flower exit code, if Flower has one for this condition.
   */
  constructor(message: string, exitCode?: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SuperNodeFatalError";
    this.exitCode = exitCode;
  }
}

/** What to tell the user when the SuperLink does not know the node's public key. */
export const NOT_REGISTERED_MESSAGE =
  "SuperNode's public key is not registered with the SuperLink. Register it with: " +
  "flwr supernode register <public-key-file> <app-dir> <federation>";

/** Re-exported for the SuperNode's callers. */
export { ExitCode };

/**
 * Retrying Fleet calls the way Python Flower's `RetryInvoker` does for a SuperNode: UNAVAILABLE
 * (the SuperLink is down or restarting) is retried with backoff; TLS handshake failures, a
 * SuperLink speaking the other wire, and every other status are not (they will not heal by
 * waiting). The same classification serves both wires (gRPC statuses; the HTTP client maps HTTP
 * statuses and socket errors onto them).
 */
import { status } from "@grpc/grpc-js";
import { isServiceError } from "../grpc/rpc-error.js";
import { parseGrpcFlowerError } from "../wire/flower-error-details.js";
import { WireMismatchError } from "../wire/wire-probe.js";
import { abortableSleep } from "./abortable-sleep.js";
import type { Backoff } from "./backoff.js";

/** How the SuperNode reacts to a failed rpc. */
export type RpcFailureKind =
  /** UNAVAILABLE: reconnect with backoff. */
  | "unavailable"
  /** The TLS handshake failed (wrong or missing root certificate, wrong host name): fatal. */
  | "tls"
  /** The SuperLink speaks the other wire (gRPC vs HTTP; `wire/wire-probe.ts`): fatal. */
  | "wire-mismatch"
  /** DEADLINE_EXCEEDED. */
  | "deadline"
  /** PERMISSION_DENIED: the run is not running (Flower's `RunNotRunningException`); drop the work. */
  | "run-not-running"
  /** UNAUTHENTICATED: the SuperLink does not accept this node's key or node id. */
  | "unauthenticated"
  /** FAILED_PRECONDITION. */
  | "failed-precondition"
  /** Anything else, including non-gRPC errors. */
  | "other";

const TLS_FAILURE =
  /handshake|certificate|self[- ]signed|SSL|TLS|wrong version number|ERR_TLS|CERT_|alert/i;

/** Classifies an error thrown by a gRPC or HTTP client call. */
export function classifyRpcError(error: unknown): RpcFailureKind {
  if (error instanceof WireMismatchError) return "wire-mismatch";
  if (!isServiceError(error)) return "other";
  switch (error.code) {
    case status.UNAVAILABLE:
      return TLS_FAILURE.test(error.details ?? "") ? "tls" : "unavailable";
    case status.DEADLINE_EXCEEDED:
      return "deadline";
    case status.PERMISSION_DENIED:
      return "run-not-running";
    case status.UNAUTHENTICATED:
      return "unauthenticated";
    case status.FAILED_PRECONDITION:
      return "failed-precondition";
    default:
      return "other";
  }
}

/** True for the failures that end a SuperNode at once: TLS, the wrong wire. */
export function isFatalTransportFailure(kind: RpcFailureKind): boolean {
  return kind === "tls" || kind === "wire-mismatch";
}

/** The details string of a gRPC error (or the message of another error). */
export function rpcErrorDetails(error: unknown): string {
  if (!isServiceError(error)) return error instanceof Error ? error.message : String(error);
  const text = error.details || error.message;
  const flowerError = parseGrpcFlowerError(error.details);
  if (flowerError) return flowerError.details;
  // grpc-js wraps connection failures: "No connection established. Last error: X. Resolution note: "
  return text
    .replace(/^No connection established\. Last error: /, "")
    .replace(/(\s*\(\d{4}-\d\d-\d\dT[^)]*\))?\.?\s*Resolution note:\s*$/, "")
    .replace(/^Error: /, "");
}

/** Thrown when a retried call gives up because `--max-retries` or `--max-wait-time` ran out. */
export class RetriesExhaustedError extends Error {
  /** Retries made before giving up. */
  readonly retries: number;
  /** Milliseconds spent retrying. */
  readonly elapsedMs: number;

  constructor(retries: number, elapsedMs: number, cause: unknown) {
    super(
      `Giving up reconnection after ${(elapsedMs / 1000).toFixed(2)} seconds and ${retries + 1} tries ` +
        `(last error: ${rpcErrorDetails(cause)})`,
      { cause },
    );
    this.name = "RetriesExhaustedError";
    this.retries = retries;
    this.elapsedMs = elapsedMs;
  }
}

/** Thrown when a shutdown interrupts a retry wait. */
export class ShutdownError extends Error {
  constructor() {
    super("shutting down");
    this.name = "ShutdownError";
  }
}

/** Options of {@link callWithRetry}. */
export interface RetryOptions {
  /** A fresh schedule for this call (Flower starts a new wait generator per invocation). */
  readonly backoff: Backoff;
  /** Which failures to retry; default: only {@link RpcFailureKind} "unavailable". */
  readonly retryOn?: readonly RpcFailureKind[];
  /** Aborts the waits (and is passed to the call). */
  readonly signal?: AbortSignal | undefined;
  /** Called before each wait. */
  readonly onRetry?: ((error: unknown, delayMs: number, retry: number) => void) | undefined;
  /** Called when a call succeeds after at least one failure. */
  readonly onRecovered?: ((tries: number, elapsedMs: number) => void) | undefined;
}

/**
 * Runs `call` until it succeeds, retrying the failures listed in `retryOn` with `backoff`.
 * @throws the call's error when it is not retryable; {@link RetriesExhaustedError} when the
 *   backoff gives up; {@link ShutdownError} when `signal` aborts.
 */
export async function callWithRetry<T>(
  call: (signal: AbortSignal | undefined) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const retryOn = options.retryOn ?? ["unavailable"];
  for (;;) {
    if (options.signal?.aborted) throw new ShutdownError();
    try {
      const result = await call(options.signal);
      if (options.backoff.attempts > 0) {
        options.onRecovered?.(options.backoff.attempts + 1, options.backoff.elapsedMs);
      }
      return result;
    } catch (error) {
      if (options.signal?.aborted) throw new ShutdownError();
      if (!retryOn.includes(classifyRpcError(error))) throw error;
      const delay = options.backoff.next();
      if (delay === undefined) {
        throw new RetriesExhaustedError(options.backoff.attempts, options.backoff.elapsedMs, error);
      }
      options.onRetry?.(error, delay, options.backoff.attempts);
      if (!(await abortableSleep(delay, options.signal))) throw new ShutdownError();
    }
  }
}

/**
 * What a handler sees of its call, whatever the wire, and the handler and middleware types both
 * adapters (`grpc/server-handlers.ts`, `http/http-router.ts`) serve.
 */
import type { MutableMetadata, RequestMetadata } from "./metadata.js";
import type { GenericService, RequestOf, ResponseOf } from "./service-definition.js";

/** The wire a call came in on. */
export type WireProtocol = "grpc" | "http";

/** What a handler knows about its call besides the request. */
export interface CallContext {
  /** The rpc's gRPC path on either wire, e.g. `/flwr.proto.Fleet/PullMessages`. */
  readonly method: string;
  /** The wire: gRPC, or Flower 1.37+'s protobuf over HTTP. */
  readonly protocol: WireProtocol;
  /** Request metadata (gRPC metadata or HTTP headers). */
  readonly metadata: RequestMetadata;
  /** The client's address. */
  readonly peer: string;
  /** Aborted when the client cancels the call, disconnects, or its deadline passes. */
  readonly signal: AbortSignal;
  /**
   * The DER bytes of the client's TLS certificate, when it presented one and the TLS layer
   * verified it against the server's CA (servers request client certificates only where a
   * middleware uses them: the Control API with `--require-control-auth`); undefined otherwise.
   * Read lazily.
   */
  readonly peerCertificate?: Uint8Array | undefined;
  /** Values attached by middleware for the handler (e.g. the authenticated public key). */
  readonly attributes: Map<string, unknown>;
  /**
   * Response metadata of a unary call (gRPC initial metadata, HTTP response headers): entries set
   * here by middleware or the handler are sent with the response, when it succeeds.
   */
  readonly responseMetadata: MutableMetadata;
}

/** A unary rpc handler. */
export type UnaryHandler<Req, Res> = (request: Req, ctx: CallContext) => Promise<Res> | Res;
/** A server-streaming rpc handler. */
export type ServerStreamHandler<Req, Res> = (request: Req, ctx: CallContext) => AsyncIterable<Res>;

/** The handlers of a service, by camelCase method name; every method must be implemented. */
export type ServiceHandlers<S extends GenericService> = {
  [K in keyof S["methods"]]: S["methods"][K] extends { responseStream: true }
    ? ServerStreamHandler<RequestOf<S["methods"][K]>, ResponseOf<S["methods"][K]>>
    : UnaryHandler<RequestOf<S["methods"][K]>, ResponseOf<S["methods"][K]>>;
};

/**
 * Runs before every handler of a service. Throw an `RpcError` to end the call with that status;
 * attach values for the handler to `ctx.attributes`. `beforeBody`, when present, is a check of
 * the headers alone that the HTTP wire runs before it reads a large request body (so an
 * unauthenticated caller cannot make the server read one); the middleware itself still runs.
 */
export type Middleware = ((request: unknown, ctx: CallContext) => Promise<void> | void) & {
  beforeBody?: (ctx: CallContext) => Promise<void> | void;
};

/** How a call ended, for {@link CallObserver}s. */
export interface CallOutcome {
  /**
   * The gRPC status code the call ended with, on either wire (0 = OK; an HTTP answer's status is
   * mapped back: 400 → INVALID_ARGUMENT, 401 → UNAUTHENTICATED, 413 → RESOURCE_EXHAUSTED, …;
   * 1 = CANCELLED when the client went away).
   */
  readonly code: number;
}

/**
 * Wraps every call of a service, after its context exists and before any check runs: returns the
 * function the adapter calls exactly once when the call ends (answered, failed, or cancelled).
 * Observers see every call, including those a middleware refused; they must not throw (metrics,
 * tracing).
 */
export type CallObserver = (ctx: CallContext) => (outcome: CallOutcome) => void;

/**
 * Starts every observer for `ctx`; returns the one function that ends them all (calls after the
 * first are ignored).
 */
export function observeCall(
  observers: readonly CallObserver[],
  ctx: CallContext,
): (outcome: CallOutcome) => void {
  if (observers.length === 0) return noop;
  const ends = observers.map((observe) => observe(ctx));
  let ended = false;
  return (outcome) => {
    if (ended) return;
    ended = true;
    for (const end of ends) end(outcome);
  };
}

function noop(): void {}

/** Receives unexpected handler errors (not `RpcError`s). */
export type ErrorReporter = (method: string, error: unknown) => void;

/** Writes unexpected handler errors to stderr. */
export const defaultErrorReporter: ErrorReporter = (method, error) => {
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`ERROR: unexpected error in ${method}: ${detail}\n`);
};

/** Options of a served service, on either wire. */
export interface ServiceOptions {
  /** Guards run in order before each handler. */
  middleware?: Middleware[];
  /** Where unexpected errors go. */
  onError?: ErrorReporter;
  /** Observers of every call (start and end), e.g. metrics. */
  observers?: CallObserver[];
}

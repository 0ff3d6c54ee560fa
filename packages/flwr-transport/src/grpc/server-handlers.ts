/**
 * Typed async service implementations for grpc-js: handlers are
 * `async (request, ctx) => response` (or async iterables for server streams),
 * guarded by middleware that may reject a call before its handler runs.
 */
import {
  Metadata,
  type ServerUnaryCall,
  type ServerWritableStream,
  type sendUnaryData,
  status,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { TRACE_ENABLED, traceNow, traceSpan } from "../diagnostics/trace.js";
import { RpcError } from "./rpc-error.js";
import {
  type GenericService,
  methodPath,
  type RequestOf,
  type ResponseOf,
  toGrpcServiceDefinition,
} from "./service-definition.js";

/** What a handler knows about its call besides the request. */
export interface CallContext {
  /** The rpc's path, e.g. `/flwr.proto.Fleet/PullMessages`. */
  readonly method: string;
  /** Request metadata sent by the client. */
  readonly metadata: Metadata;
  /** The client's address as grpc-js reports it. */
  readonly peer: string;
  /** Aborted when the client cancels the call or its deadline passes. */
  readonly signal: AbortSignal;
  /** Values attached by middleware for the handler (e.g. the authenticated public key). */
  readonly attributes: Map<string, unknown>;
  /**
   * Response headers (initial metadata) of a unary call: entries set here by middleware or the
   * handler are sent with the response, when it succeeds.
   */
  readonly responseMetadata: Metadata;
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
 * Runs before every handler of a service. Throw an {@link RpcError} to end the
 * call with that status; attach values for the handler to `ctx.attributes`.
 */
export type Middleware = (request: unknown, ctx: CallContext) => Promise<void> | void;

/** Receives unexpected handler errors (not {@link RpcError}s); defaults to stderr. */
export type ErrorReporter = (method: string, error: unknown) => void;

const defaultReporter: ErrorReporter = (method, error) => {
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`ERROR: unexpected error in ${method}: ${detail}\n`);
};

function toServiceError(method: string, error: unknown, report: ErrorReporter) {
  if (error instanceof RpcError) return { code: error.code, details: error.details };
  report(method, error);
  return { code: status.INTERNAL, details: "Internal server error" };
}

/**
 * The context of one call plus `done()`, to be called once the handler has finished: grpc-js
 * emits "cancelled" when any call's stream closes, also after a normal response, and aborting the
 * signal then would build a DOMException and run abort listeners for nothing on every call.
 */
function contextOf(
  method: string,
  call: ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>,
): { ctx: CallContext; done: () => void } {
  const controller = new AbortController();
  const onCancelled = () => controller.abort();
  call.on("cancelled", onCancelled);
  const ctx: CallContext = {
    method,
    metadata: call.metadata,
    peer: call.getPeer(),
    signal: controller.signal,
    attributes: new Map(),
    responseMetadata: new Metadata(),
  };
  return { ctx, done: () => call.off("cancelled", onCancelled) };
}

/** Options of {@link createServiceImplementation}. */
export interface ServiceImplementationOptions {
  /** Guards run in order before each handler. */
  middleware?: Middleware[];
  /** Where unexpected errors go. */
  onError?: ErrorReporter;
}

/**
 * Builds the grpc-js implementation of `service` from typed handlers.
 * @returns the pair to pass to `server.addService(definition, implementation)`.
 */
export function createServiceImplementation<S extends GenericService>(
  service: S,
  handlers: ServiceHandlers<S>,
  options: ServiceImplementationOptions = {},
) {
  const middleware = options.middleware ?? [];
  const report = options.onError ?? defaultReporter;
  const definition = toGrpcServiceDefinition(service);
  const implementation: UntypedServiceImplementation = {};
  for (const [key, m] of Object.entries(service.methods)) {
    const path = methodPath(service, m);
    const handler = (handlers as Record<string, unknown>)[key];
    if (typeof handler !== "function") throw new Error(`no handler for ${path}`);
    if (m.responseStream) {
      const stream = handler as ServerStreamHandler<unknown, unknown>;
      implementation[key] = (call: ServerWritableStream<unknown, unknown>) => {
        void serveStream(path, call, stream, middleware, report);
      };
    } else {
      const unary = handler as UnaryHandler<unknown, unknown>;
      implementation[key] = (
        call: ServerUnaryCall<unknown, unknown>,
        callback: sendUnaryData<unknown>,
      ) => {
        const { ctx, done } = contextOf(path, call);
        const t0 = TRACE_ENABLED ? traceNow() : 0;
        let t1 = 0;
        (async () => {
          for (const guard of middleware) await guard(call.request, ctx);
          if (TRACE_ENABLED) t1 = traceNow();
          return unary(call.request, ctx);
        })().then(
          (response) => {
            done();
            if (TRACE_ENABLED) traceSpan("rpc.s", t0, { m: m.name, mw: +(t1 - t0).toFixed(3) });
            if (Object.keys(ctx.responseMetadata.getMap()).length > 0)
              call.sendMetadata(ctx.responseMetadata);
            callback(null, response);
          },
          (error: unknown) => {
            done();
            if (TRACE_ENABLED) traceSpan("rpc.s", t0, { m: m.name, err: String(error) });
            callback(toServiceError(path, error, report));
          },
        );
      };
    }
  }
  return { definition, implementation };
}

async function serveStream(
  path: string,
  call: ServerWritableStream<unknown, unknown>,
  handler: ServerStreamHandler<unknown, unknown>,
  middleware: Middleware[],
  report: ErrorReporter,
): Promise<void> {
  const { ctx, done } = contextOf(path, call);
  try {
    for (const guard of middleware) await guard(call.request, ctx);
    for await (const message of handler(call.request, ctx)) {
      if (ctx.signal.aborted) return;
      if (!call.write(message)) {
        await new Promise<void>((resolve) => {
          const drained = () => {
            call.off("drain", drained);
            ctx.signal.removeEventListener("abort", drained);
            resolve();
          };
          call.once("drain", drained);
          ctx.signal.addEventListener("abort", drained);
        });
      }
    }
    if (!ctx.signal.aborted) {
      done();
      call.end();
    }
  } catch (error) {
    if (ctx.signal.aborted) return;
    done();
    const { code, details } = toServiceError(path, error, report);
    // grpc-js ends a server stream with a status when "error" is emitted on it.
    call.emit("error", Object.assign(new Error(details), { code, details }));
  }
}

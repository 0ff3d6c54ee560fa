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
import {
  type CallContext,
  type CallObserver,
  defaultErrorReporter,
  type ErrorReporter,
  type Middleware,
  observeCall,
  type ServerStreamHandler,
  type ServiceHandlers,
  type ServiceOptions,
  type UnaryHandler,
} from "../wire/call-context.js";
import { UndecodableRequest } from "../wire/strict-decode.js";
import { capStatusDetails } from "../wire/untrusted-text.js";
import { RpcError } from "./rpc-error.js";
import { type GenericService, methodPath, toGrpcServiceDefinition } from "./service-definition.js";
import { checkMetadataSize } from "./session-guard.js";

export type {
  CallContext,
  ErrorReporter,
  Middleware,
  ServerStreamHandler,
  ServiceHandlers,
  UnaryHandler,
} from "../wire/call-context.js";

/**
 * Checks before any middleware: metadata within Flower's 16 KiB (RESOURCE_EXHAUSTED), and a body
 * `requestDeserialize` refused for invalid UTF-8 ends the call INVALID_ARGUMENT.
 */
function refuseUndecodable(request: unknown, metadata: Metadata): void {
  checkMetadataSize(metadata);
  if (request instanceof UndecodableRequest)
    throw new RpcError(status.INVALID_ARGUMENT, request.reason);
}

function toServiceError(method: string, error: unknown, report: ErrorReporter) {
  if (error instanceof RpcError)
    return { code: error.code, details: capStatusDetails(error.details) };
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
    protocol: "grpc",
    metadata: call.metadata,
    peer: call.getPeer(),
    get peerCertificate() {
      // grpc-js gives the certificate only when the TLS socket verified it (`authorized`).
      return call.getAuthContext().sslPeerCertificate?.raw;
    },
    signal: controller.signal,
    attributes: new Map(),
    responseMetadata: new Metadata(),
  };
  return { ctx, done: () => call.off("cancelled", onCancelled) };
}

/** Options of {@link createServiceImplementation}. */
export type ServiceImplementationOptions = ServiceOptions;

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
  const observers = options.observers ?? [];
  const report = options.onError ?? defaultErrorReporter;
  const definition = toGrpcServiceDefinition(service);
  const implementation: UntypedServiceImplementation = {};
  for (const [key, m] of Object.entries(service.methods)) {
    const path = methodPath(service, m);
    const handler = (handlers as Record<string, unknown>)[key];
    if (typeof handler !== "function") throw new Error(`no handler for ${path}`);
    if (m.responseStream) {
      const stream = handler as ServerStreamHandler<unknown, unknown>;
      implementation[key] = (call: ServerWritableStream<unknown, unknown>) => {
        void serveStream(path, call, stream, middleware, report, observers);
      };
    } else {
      const unary = handler as UnaryHandler<unknown, unknown>;
      implementation[key] = (
        call: ServerUnaryCall<unknown, unknown>,
        callback: sendUnaryData<unknown>,
      ) => {
        const { ctx, done } = contextOf(path, call);
        const end = observeCall(observers, ctx);
        const t0 = TRACE_ENABLED ? traceNow() : 0;
        let t1 = 0;
        (async () => {
          refuseUndecodable(call.request, call.metadata);
          for (const guard of middleware) await guard(call.request, ctx);
          if (TRACE_ENABLED) t1 = traceNow();
          return unary(call.request, ctx);
        })().then(
          (response) => {
            done();
            if (TRACE_ENABLED) traceSpan("rpc.s", t0, { m: m.name, mw: +(t1 - t0).toFixed(3) });
            if (Object.keys(ctx.responseMetadata.getMap()).length > 0)
              // contextOf made it a grpc-js Metadata.
              call.sendMetadata(ctx.responseMetadata as Metadata);
            callback(null, response);
            end({ code: status.OK });
          },
          (error: unknown) => {
            done();
            if (TRACE_ENABLED) traceSpan("rpc.s", t0, { m: m.name, err: String(error) });
            const failure = toServiceError(path, error, report);
            callback(failure);
            end({ code: failure.code });
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
  observers: readonly CallObserver[],
): Promise<void> {
  const { ctx, done } = contextOf(path, call);
  const observed = observeCall(observers, ctx);
  const end = (code: number) => observed({ code: ctx.signal.aborted ? status.CANCELLED : code });
  try {
    refuseUndecodable(call.request, call.metadata);
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
    end(status.OK);
  } catch (error) {
    if (ctx.signal.aborted) return;
    done();
    const { code, details } = toServiceError(path, error, report);
    end(code);
    // grpc-js ends a server stream with a status when "error" is emitted on it.
    call.emit("error", Object.assign(new Error(details), { code, details }));
  } finally {
    end(status.OK); // no-op unless the loop returned on a cancelled call (counted CANCELLED)
  }
}

/**
 * Serves typed service handlers (`../call-context.ts`) on Flower 1.37+'s protobuf-over-HTTP wire,
 * the HTTP twin of `grpc/server-handlers.ts`: `POST /v1/<api>/<kebab-method>` with a binary
 * protobuf body (`application/protobuf`) answers one serialized response, or a stream of
 * length-prefixed frames (`application/flower-protobuf-stream`) for server-streaming rpcs.
 * Failures are answered as Flower's FastAPI app answers them (`flwr/supercore/error/http.py`,
 * `flwr/supercore/protobuf/translation.py`): JSON `{"code", "detail"}` with the catalog's HTTP
 * status, `{"detail": "Not Found"}` for an unknown route, 415 for another content type, 400 for
 * a body that does not decode, 500 `{"detail": "Internal server error."}` for a handler crash.
 * `GET /health` answers 200 as Flower's health router does.
 *
 * Own code on `node:http` rather than fastify or another framework: routing is one map lookup,
 * bodies are protobuf (no JSON schema to gain), and the byte-exact answers above, streaming with
 * backpressure and abort-on-disconnect are each a few lines here.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { TLSSocket } from "node:tls";
import { TRACE_ENABLED, traceNow, traceSpan } from "../../diagnostics/trace.js";
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
} from "../call-context.js";
import { Code } from "../code.js";
import { RpcError } from "../rpc-error.js";
import { type GenericMethod, type GenericService, methodPath } from "../service-definition.js";
import { decodeRequest } from "../strict-decode.js";
import { capStatusDetails, untrusted } from "../untrusted-text.js";
import {
  API_ERROR_PUBLIC_MESSAGES,
  type ApiErrorBody,
  ApiErrorCode,
  encodeApiError,
  INTERNAL_SERVER_ERROR_MESSAGE,
} from "./api-errors.js";
import { HeaderMetadata } from "./header-metadata.js";
import { codeOfHttpStatus, httpStatusOf } from "./http-status.js";
import { frameMessage, PROTOBUF_MEDIA_TYPE, PROTOBUF_STREAM_MEDIA_TYPE } from "./media-types.js";
import { httpPathOf } from "./routes.js";

/** Flower 1.42's health route: `GET`/`HEAD` answer 200 while the server runs. */
export const HEALTH_PATH = "/health";

/**
 * Largest request body accepted by default: 64 MiB, `FLWR_TS_HTTP_MAX_BODY_BYTES` to change it.
 * Flower 1.42 sets no limit of its own (uvicorn reads any body); its largest legitimate bodies are
 * a StartRun with a FAB (10 MiB cap) and a PushObject of one array chunk (5 MiB by default).
 */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;

/**
 * Bodies larger than this (or of unknown length) are read only after every middleware's
 * `beforeBody` check passed.
 */
export const PRE_CHECK_BODY_BYTES = 64 * 1024;

function maxBodyFromEnv(): number {
  const raw = process.env["FLWR_TS_HTTP_MAX_BODY_BYTES"];
  const n = raw === undefined ? Number.NaN : Number(raw);
  return Number.isSafeInteger(n) && n > 0 ? n : DEFAULT_MAX_BODY_BYTES;
}

/** Options of {@link HttpRpcRouter.addService}. */
export interface HttpServiceOptions extends ServiceOptions {
  /** Largest request body, bytes; larger ones get 413 before they are read. */
  maxBodyBytes?: number;
}

interface Route {
  readonly path: string;
  readonly method: GenericMethod;
  readonly handler: UnaryHandler<unknown, unknown> | ServerStreamHandler<unknown, unknown>;
  readonly middleware: Middleware[];
  readonly report: ErrorReporter;
  readonly observers: readonly CallObserver[];
  readonly maxBodyBytes: number;
}

class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody,
  ) {
    super(body.detail);
  }
}

/**
 * True when a handler's details only restate the catalog message (1.29's wording lacks the final
 * period: "Public key already in use" vs "Public key already in use."): no `extra` then, as
 * Flower 1.42 sends none for those codes.
 */
function restates(details: string, message: string): boolean {
  return details === message || `${details}.` === message;
}

/**
 * Flower's coded error body: the catalog's public message as `detail`, the handler's own details
 * as `extra` unless they only restate it.
 */
function codedBody(code: number, details: string | undefined): ApiErrorBody {
  const message = API_ERROR_PUBLIC_MESSAGES[code] ?? details ?? "";
  return {
    code,
    detail: message,
    ...(details !== undefined && !restates(details, message) ? { extra: details } : {}),
  };
}

/** A failure of the wire itself (content type, body), answered before any handler runs. */
function apiFailure(code: number, details?: string): HttpFailure {
  const status = code === ApiErrorCode.UNSUPPORTED_CONTENT_TYPE ? 415 : 400;
  return new HttpFailure(status, codedBody(code, details));
}

/** The status and body a thrown value is answered with. */
function failureOf(path: string, error: unknown, report: ErrorReporter): HttpFailure {
  if (error instanceof HttpFailure) return error;
  if (error instanceof RpcError) {
    const status = httpStatusOf(error.code);
    const details = capStatusDetails(error.details);
    if (error.apiErrorCode === undefined) return new HttpFailure(status, { detail: details });
    return new HttpFailure(status, codedBody(error.apiErrorCode, details));
  }
  report(path, error);
  return new HttpFailure(500, { detail: INTERNAL_SERVER_ERROR_MESSAGE });
}

function sendJson(res: ServerResponse, status: number, body: ApiErrorBody): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = encodeApiError(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

function mediaType(value: string | undefined): string {
  return (value ?? "").split(";")[0]!.trim().toLowerCase();
}

/** Reads a request body up to `max` bytes; rejects with 413 beyond it. */
function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        reject(new HttpFailure(413, { detail: `Request body exceeds ${max} bytes.` }));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.on("error", reject);
  });
}

function contextOf(path: string, req: IncomingMessage, res: ServerResponse): CallContext {
  const controller = new AbortController();
  // The client went away before the answer was complete.
  res.on("close", () => {
    if (!res.writableFinished) controller.abort();
  });
  return {
    method: path,
    protocol: "http",
    metadata: new HeaderMetadata(req.headers),
    peer: `${req.socket.remoteAddress ?? "?"}:${req.socket.remotePort ?? 0}`,
    get peerCertificate() {
      const socket = req.socket;
      if (!(socket instanceof TLSSocket) || !socket.authorized) return undefined;
      const raw = socket.getPeerCertificate().raw;
      return raw && raw.length > 0 ? raw : undefined;
    },
    signal: controller.signal,
    attributes: new Map(),
    responseMetadata: new HeaderMetadata(),
  };
}

function applyResponseHeaders(res: ServerResponse, ctx: CallContext): void {
  const headers = ctx.responseMetadata as HeaderMetadata;
  for (const [key, values] of headers.entries()) res.setHeader(key, values);
}

/** Routes HTTP requests to the handlers of the services added to it. */
export class HttpRpcRouter {
  private readonly routes = new Map<string, Route>();

  /**
   * Serves every rpc of `service` at its Flower path.
   * @throws Error when a handler is missing or a path is taken.
   */
  addService<S extends GenericService>(
    service: S,
    handlers: ServiceHandlers<S>,
    options: HttpServiceOptions = {},
  ): this {
    for (const [key, m] of Object.entries(service.methods)) {
      const method = m as GenericMethod;
      const handler = (handlers as Record<string, unknown>)[key];
      if (typeof handler !== "function")
        throw new Error(`no handler for ${methodPath(service, m)}`);
      const httpPath = httpPathOf(service, m);
      if (this.routes.has(httpPath)) throw new Error(`route ${httpPath} is served twice`);
      this.routes.set(httpPath, {
        path: methodPath(service, m),
        method,
        handler: handler as Route["handler"],
        middleware: options.middleware ?? [],
        report: options.onError ?? defaultErrorReporter,
        observers: options.observers ?? [],
        maxBodyBytes: options.maxBodyBytes ?? maxBodyFromEnv(),
      });
    }
    return this;
  }

  /** True when `path` (without query) is one of the routes. */
  serves(path: string): boolean {
    return this.routes.has(path);
  }

  /** The request listener for `http.createServer` / `https.createServer`. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const path = q < 0 ? url : url.slice(0, q);
    if (path === HEALTH_PATH && (req.method === "GET" || req.method === "HEAD")) {
      // Flower 1.42's health route (`flwr/supercore/routers/health/router.py`): 200, no body.
      req.resume();
      res.writeHead(200, { "content-length": 0 });
      res.end();
      return;
    }
    const route = this.routes.get(path);
    if (!route) {
      req.resume();
      sendJson(res, 404, { detail: "Not Found" });
      return;
    }
    if (req.method !== "POST") {
      req.resume();
      res.setHeader("allow", "POST");
      sendJson(res, 405, { detail: "Method Not Allowed" });
      return;
    }
    void this.serve(route, req, res);
  };

  private async serve(route: Route, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const t0 = TRACE_ENABLED ? traceNow() : 0;
    const ctx = contextOf(route.path, req, res);
    const end = observeCall(route.observers, ctx);
    try {
      if (mediaType(req.headers["content-type"]) !== PROTOBUF_MEDIA_TYPE) {
        req.resume();
        throw apiFailure(
          ApiErrorCode.UNSUPPORTED_CONTENT_TYPE,
          `Unsupported Content-Type: '${untrusted(req.headers["content-type"] ?? "")}'`,
        );
      }
      const declared = Number(req.headers["content-length"]);
      if (Number.isFinite(declared) && declared > route.maxBodyBytes)
        throw new HttpFailure(413, {
          detail: `Request body of ${declared} bytes exceeds ${route.maxBodyBytes} bytes.`,
        });
      if (!(Number.isFinite(declared) && declared <= PRE_CHECK_BODY_BYTES))
        for (const guard of route.middleware) await guard.beforeBody?.(ctx);
      const body = await readBody(req, route.maxBodyBytes);
      let request: unknown;
      try {
        request = decodeRequest(route.method.requestType, body);
      } catch (error) {
        throw apiFailure(
          ApiErrorCode.INVALID_PROTOBUF_PAYLOAD,
          `Invalid protobuf payload: ${(error as Error).message}`,
        );
      }
      for (const guard of route.middleware) await guard(request, ctx);
      let code: number = Code.OK;
      if (route.method.responseStream) {
        code = await this.stream(route, request, ctx, res);
      } else {
        const response = await (route.handler as UnaryHandler<unknown, unknown>)(request, ctx);
        const bytes = route.method.responseType.encode(response).finish();
        applyResponseHeaders(res, ctx);
        res.writeHead(200, {
          "content-type": PROTOBUF_MEDIA_TYPE,
          "content-length": bytes.length,
        });
        res.end(bytes);
      }
      if (TRACE_ENABLED) traceSpan("http.s", t0, { m: route.method.name });
      end({ code: ctx.signal.aborted ? Code.CANCELLED : code });
    } catch (error) {
      if (TRACE_ENABLED) traceSpan("http.s", t0, { m: route.method.name, err: String(error) });
      if (ctx.signal.aborted) {
        end({ code: Code.CANCELLED });
        return;
      }
      const failure = failureOf(route.path, error, route.report);
      end({ code: error instanceof RpcError ? error.code : codeOfHttpStatus(failure.status) });
      // A body left unread is not drained: the connection closes after the answer.
      if (!req.complete) res.shouldKeepAlive = false;
      sendJson(res, failure.status, failure.body);
      if (!req.complete) res.once("finish", () => req.socket.destroySoon());
    }
  }

  private async stream(
    route: Route,
    request: unknown,
    ctx: CallContext,
    res: ServerResponse,
  ): Promise<number> {
    const messages = (route.handler as ServerStreamHandler<unknown, unknown>)(request, ctx);
    const iterator = messages[Symbol.asyncIterator]();
    // The first message (or the first failure) decides between a stream and an error answer.
    let next = await iterator.next();
    applyResponseHeaders(res, ctx);
    res.writeHead(200, { "content-type": PROTOBUF_STREAM_MEDIA_TYPE });
    res.flushHeaders();
    try {
      while (!next.done) {
        if (ctx.signal.aborted) return Code.CANCELLED;
        const frame = frameMessage(route.method.responseType.encode(next.value).finish());
        if (!res.write(frame)) await drained(res, ctx.signal);
        next = await iterator.next();
      }
      res.end();
      return Code.OK;
    } catch (error) {
      // Headers are out: the only way to signal a failure now is to cut the stream short,
      // which the client reads as a truncated frame sequence.
      if (!(error instanceof RpcError)) route.report(route.path, error);
      res.destroy();
      return error instanceof RpcError ? error.code : Code.INTERNAL;
    } finally {
      if (ctx.signal.aborted) await iterator.return?.();
    }
  }
}

function drained(res: ServerResponse, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      signal.removeEventListener("abort", done);
      resolve();
    };
    res.once("drain", done);
    signal.addEventListener("abort", done, { once: true });
  });
}

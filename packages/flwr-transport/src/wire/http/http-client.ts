/**
 * A typed client of Flower 1.40+'s protobuf-over-HTTP wire, the HTTP twin of `grpc/client.ts`:
 * {@link createHttpClient} returns the same {@link ServiceClient} shape (one async method per
 * rpc, server streams as async iterables, `close()`), so callers do not know which wire they use.
 * It does what Python's `ProtobufClient` (`flwr/supercore/protobuf/client.py`) does:
 *
 * - `POST <baseUrl>/v1/<api>/<kebab-method>` (`routes.ts`), body the serialized request,
 *   `content-type: application/protobuf`, `accept: application/protobuf` (a stream:
 *   `accept: application/flower-protobuf-stream` and `accept-encoding: identity`), HTTP/1.1 with
 *   keep-alive connections.
 * - A unary answer is one serialized message; a stream is Flower's 4-byte big-endian
 *   length-prefixed frames (`media-types.ts`), decoded whatever the chunking.
 * - Metadata becomes headers: string values as they are; a gRPC `-bin` key (bytes) is sent
 *   without the suffix and base64 — exactly Flower's SuperNode auth headers
 *   (`flwr-public-key-bin` → `flwr-public-key`, `flwr-signature-bin` → `flwr-signature`,
 *   `node_auth_http_interceptor.py`). Response headers reach `onResponseMetadata`.
 * - A failed call throws an {@link RpcError}: an HTTP error status gives `codeOfHttpStatus` and
 *   the JSON body's `detail` (plus `extra`; Flower's `code` as `apiErrorCode`), the body read up to
 *   64 KiB as Python does; FastAPI's 404 `{"detail":"Not Found"}` (an unknown route) gives
 *   UNIMPLEMENTED; refused/reset connections and DNS failures give UNAVAILABLE; a failed TLS
 *   handshake gives UNAVAILABLE with the TLS error in `details` (which `supernode/rpc-retry.ts`
 *   classifies as fatal, not retried); a timeout gives DEADLINE_EXCEEDED and an aborted signal
 *   CANCELLED.
 * - A peer that answers HTTP/2 frames or accepts only ALPN `h2` (a gRPC server) throws a
 *   {@link WireMismatchError}; other wrong guesses (a TLS gRPC server that just drops the
 *   connection) are for `../wire-probe.ts`'s `withWireCheck`.
 *
 * Timeouts: `CallOptions.timeoutMs` bounds the whole call. Without it, a unary call fails when
 * the server sends nothing for {@link HttpClientOptions.readTimeoutMs} (30 s, httpx's read
 * timeout as Python's client sets it); a stream has that bound only until its headers arrive.
 * Redirects are not followed (a SuperLink never sends one): a 3xx is an error naming `location`.
 *
 * Built on `node:http`/`node:https` only (no new dependency): undici would add HTTP/1.1
 * pipelining we do not want and a second TLS stack configuration; the framing, errors and
 * header rules above are each a few lines on Node's own client.
 */
import { readFileSync } from "node:fs";
import {
  type ClientRequest,
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
} from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { isIP } from "node:net";
import { Code } from "../code.js";
import type { MutableMetadata, RequestMetadata } from "../metadata.js";
import { RpcError } from "../rpc-error.js";
import {
  type CallOptions,
  type MetadataProvider,
  metadataEntries,
  type ServiceClient,
} from "../service-client.js";
import { type GenericMethod, type GenericService, methodPath } from "../service-definition.js";
import { looksLikeHttp2Frame, WireMismatchError } from "../wire-probe.js";
import { decodeApiError } from "./api-errors.js";
import { HeaderMetadata } from "./header-metadata.js";
import { codeOfHttpStatus } from "./http-status.js";
import {
  MAX_STREAM_FRAME_BYTES,
  PROTOBUF_MEDIA_TYPE,
  PROTOBUF_STREAM_MEDIA_TYPE,
  readFrames,
} from "./media-types.js";
import { httpPathOf } from "./routes.js";

/** Python's `_MAX_ERROR_RESPONSE_BODY_LENGTH`: the most of an error body that is read. */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;
/** httpx's timeout as Python's `ProtobufClient` sets it (30 s), used as the read timeout. */
export const DEFAULT_READ_TIMEOUT_MS = 30_000;
/** Largest unary response body by default: Flower's message limit (2 GiB − 1). */
export const DEFAULT_MAX_RESPONSE_BYTES = 2_147_483_647;

/** Options of {@link createHttpClient}. */
export interface HttpClientOptions {
  /**
   * Root CA certificate(s) for an `https://` base URL: PEM bytes, or the path of a PEM file.
   * Default: Node's bundled trust store (as Python uses the system's).
   */
  readonly rootCertificates?: Buffer | string | undefined;
  /** A TLS client certificate and its key (PEM bytes) to present, e.g. an operator's. */
  readonly clientCertificate?: { readonly cert: Buffer; readonly key: Buffer } | undefined;
  /** TLS server name to verify instead of the URL's host. */
  readonly servername?: string;
  /** Metadata added to every call (before per-call metadata), e.g. Flower's SuperNode signature. */
  readonly metadata?: MetadataProvider;
  /** Headers added to every call (e.g. Flower's runtime version headers). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Receives the response headers of every successful unary call (before its per-call listener). */
  readonly onResponseMetadata?: (metadata: RequestMetadata) => void;
  /** Read timeout of calls without `timeoutMs`, ms (default {@link DEFAULT_READ_TIMEOUT_MS}). */
  readonly readTimeoutMs?: number;
  /** Largest unary response body, bytes (default {@link DEFAULT_MAX_RESPONSE_BYTES}). */
  readonly maxResponseBytes?: number;
  /** Largest stream frame, bytes (default Flower's {@link MAX_STREAM_FRAME_BYTES}). */
  readonly maxFrameBytes?: number;
  /** Most connections open at once (default: unlimited, as Node's agent). */
  readonly maxSockets?: number;
}

export { WireMismatchError } from "../wire-probe.js";

/** What one call needs, resolved once per client. */
interface Endpoint {
  readonly url: URL;
  readonly secure: boolean;
  readonly agent: HttpAgent;
  readonly label: string;
}

function loadCa(ca: Buffer | string | undefined): Buffer | undefined {
  if (ca === undefined) return undefined;
  if (Buffer.isBuffer(ca)) return ca;
  if (ca.includes("-----BEGIN ")) return Buffer.from(ca, "ascii");
  return readFileSync(ca);
}

/**
 * The headers of `metadata`: string values as they are, `-bin` keys without the suffix and with
 * base64 values (Flower's HTTP form of gRPC's binary metadata).
 */
export function metadataToHeaders(
  metadata: MutableMetadata,
  into: Record<string, string | string[]> = {},
): Record<string, string | string[]> {
  for (const [key, values] of metadataEntries(metadata)) {
    const lower = key.toLowerCase();
    const binary = lower.endsWith("-bin");
    const name = binary ? lower.slice(0, -4) : lower;
    const texts = values.map((v) =>
      binary
        ? (typeof v === "string" ? Buffer.from(v, "utf8") : v).toString("base64")
        : typeof v === "string"
          ? v
          : v.toString("utf8"),
    );
    if (texts.length === 0) continue;
    into[name] = texts.length === 1 ? texts[0]! : texts;
  }
  return into;
}

/** The `type/subtype` part of a content-type header, lower case. */
function mediaTypeOf(header: string | undefined): string | undefined {
  return header?.split(";")[0]?.trim().toLowerCase() || undefined;
}

const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EAI_FAIL",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "ETIMEDOUT",
  "EADDRNOTAVAIL",
  "ERR_SOCKET_CONNECTION_TIMEOUT",
]);

/** True for an error of the TLS layer: certificate verification, handshake, protocol. */
function isTlsError(error: NodeJS.ErrnoException & { library?: string }): boolean {
  const code = error.code ?? "";
  return (
    code.startsWith("ERR_SSL_") ||
    code.startsWith("ERR_TLS_") ||
    code === "EPROTO" ||
    /CERT|SIGNATURE|ISSUER|VERIFY/.test(code) ||
    error.library === "SSL routines"
  );
}

/**
 * The {@link RpcError} of a failed request (before any response): connection failures are
 * UNAVAILABLE, TLS failures UNAVAILABLE with "TLS handshake … failed" details, HTTP/2 frames a
 * {@link WireMismatchError}.
 */
function transportError(
  endpoint: Endpoint,
  error: NodeJS.ErrnoException & { rawPacket?: Buffer; library?: string },
): RpcError {
  if (error instanceof RpcError) return error;
  const code = error.code ?? "";
  const message = error.message.trim();
  if (code.startsWith("HPE_")) {
    if (looksLikeHttp2Frame(error.rawPacket))
      return new WireMismatchError(endpoint.label, "grpc", "it answered with HTTP/2 frames");
    return new RpcError(
      Code.UNAVAILABLE,
      `The server at ${endpoint.label} sent an invalid HTTP/1.1 response (${message}; ${code})`,
    );
  }
  if (
    code === "ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL" ||
    /alert no application protocol|SSL alert number 120/i.test(message)
  )
    return new WireMismatchError(
      endpoint.label,
      "grpc",
      "its TLS handshake accepts only HTTP/2 (ALPN h2), as gRPC servers do",
    );
  if (endpoint.secure && isTlsError(error)) {
    const hint =
      code === "ERR_SSL_WRONG_VERSION_NUMBER" || /wrong version number/i.test(message)
        ? "; the server may not use TLS (--insecure?)"
        : "";
    return new RpcError(
      Code.UNAVAILABLE,
      `TLS handshake with ${endpoint.label} failed: ${message}${code ? ` (${code})` : ""}${hint}`,
    );
  }
  if (CONNECTION_CODES.has(code) || /socket hang up|disconnected/i.test(message)) {
    // Node says "…before secure TLS connection was established" for a reset during the
    // handshake: a connection failure (retried), so the text must not look like a TLS one.
    const text = /secure TLS connection/.test(message)
      ? "connection closed before it was secured"
      : message;
    return new RpcError(
      Code.UNAVAILABLE,
      `Cannot reach ${endpoint.label}: ${text}${code && !text.includes(code) ? ` (${code})` : ""}`,
    );
  }
  return new RpcError(
    Code.UNAVAILABLE,
    `Request to ${endpoint.label} failed: ${message}${code ? ` (${code})` : ""}`,
  );
}

/** Reads at most `limit` bytes of a body (then stops reading and drops the connection). */
function readBounded(res: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      res.off("data", onData);
      resolve(Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer) => {
      const room = limit - size;
      if (chunk.length >= room) {
        chunks.push(chunk.subarray(0, room));
        size += room;
        res.destroy();
        done();
        return;
      }
      chunks.push(chunk);
      size += chunk.length;
    };
    res.on("data", onData);
    res.once("end", done);
    res.once("error", reject);
    res.once("close", done);
  });
}

/** Reads a whole body up to `limit` bytes; more is an error. */
function readAll(res: IncomingMessage, limit: number, label: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let complete = false;
    res.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        res.destroy(
          new RpcError(
            Code.RESOURCE_EXHAUSTED,
            `Response from ${label} exceeds the ${limit}-byte limit`,
          ),
        );
        return;
      }
      chunks.push(chunk);
    });
    res.once("end", () => {
      complete = true;
      resolve(Buffer.concat(chunks, size));
    });
    res.once("error", reject);
    res.once("close", () => {
      if (!complete)
        reject(new RpcError(Code.UNAVAILABLE, `Connection to ${label} closed mid-response`));
    });
  });
}

/** The error of an HTTP error status: Flower's JSON body read into code, details, apiErrorCode. */
async function statusError(
  endpoint: Endpoint,
  path: string,
  res: IncomingMessage,
): Promise<RpcError> {
  const status = res.statusCode ?? 0;
  let text = "";
  try {
    text = (await readBounded(res, MAX_ERROR_BODY_BYTES)).toString("utf8");
  } catch {
    // the status is enough
  }
  const body = decodeApiError(text);
  if (status >= 300 && status < 400) {
    const to = res.headers.location;
    return new RpcError(
      Code.UNKNOWN,
      `${endpoint.label} redirected POST ${path} (HTTP ${status}${to ? ` to ${to}` : ""}); redirects are not followed`,
    );
  }
  if (status === 404 && body && body.code === undefined && body.detail === "Not Found") {
    return new RpcError(
      Code.UNIMPLEMENTED,
      `The SuperLink at ${endpoint.label} does not serve POST ${path} (404 Not Found): it is not a ` +
        "Flower 1.40+ HTTP API, or it does not have this API or method",
    );
  }
  const code = codeOfHttpStatus(status);
  if (body) {
    const details = body.extra ? `${body.detail} ${body.extra}` : body.detail;
    return new RpcError(code, details, body.code === undefined ? {} : { apiErrorCode: body.code });
  }
  const snippet = text.trim().replace(/\s+/g, " ").slice(0, 200);
  return new RpcError(
    code,
    `HTTP ${status} ${res.statusMessage ?? ""} from ${endpoint.label} POST ${path}`.trim() +
      (snippet ? `: ${snippet}` : ""),
  );
}

interface Attempt {
  /** The request currently carrying the call (the second one after a stale-socket retry). */
  readonly req: ClientRequest;
  readonly response: Promise<IncomingMessage>;
  /** Why the call was ended by this side (cancelled, deadline), once it was. */
  readonly reason: RpcError | undefined;
  /** Removes the timers and the abort listener. */
  finish(): void;
}

/**
 * Creates a typed client of `service` on Flower's protobuf-over-HTTP wire.
 * @param baseUrl - `http://host:port` or `https://host:port` (a path prefix is kept).
 * @example const fleet = createHttpClient(FleetDefinition, "https://127.0.0.1:8000", { rootCertificates: "ca.crt" });
 * @throws Error when `baseUrl` is not an http(s) URL, or the CA file cannot be read.
 */
export function createHttpClient<S extends GenericService>(
  service: S,
  baseUrl: string,
  options: HttpClientOptions = {},
): ServiceClient<S> {
  const url = new URL(baseUrl);
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new Error(`HTTP client base URL must be http:// or https://, got ${baseUrl}`);
  const secure = url.protocol === "https:";
  const ca = secure ? loadCa(options.rootCertificates) : undefined;
  const agentOptions = {
    keepAlive: true,
    ...(options.maxSockets === undefined ? {} : { maxSockets: options.maxSockets }),
  };
  const agent = secure
    ? new HttpsAgent({
        ...agentOptions,
        ...(ca ? { ca } : {}),
        ...(options.servername ? { servername: options.servername } : {}),
        ...(options.clientCertificate
          ? { cert: options.clientCertificate.cert, key: options.clientCertificate.key }
          : {}),
        ALPNProtocols: ["http/1.1"],
      })
    : new HttpAgent(agentOptions);
  const endpoint: Endpoint = { url, secure, agent, label: url.origin };
  const prefix = url.pathname.replace(/\/+$/, "");
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const readTimeoutMs = options.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS;
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const send = secure ? httpsRequest : httpRequest;

  const headersOf = async (
    rpc: string,
    callOptions: CallOptions,
    stream: boolean,
    length: number,
  ): Promise<OutgoingHttpHeaders> => {
    const headers: Record<string, string | string[]> = { ...options.headers };
    if (options.metadata) metadataToHeaders(await options.metadata(rpc), headers);
    if (callOptions.metadata) metadataToHeaders(callOptions.metadata, headers);
    headers["content-type"] = PROTOBUF_MEDIA_TYPE;
    headers["content-length"] = String(length);
    if (stream) {
      headers["accept"] = PROTOBUF_STREAM_MEDIA_TYPE;
      headers["accept-encoding"] = "identity";
    } else {
      headers["accept"] = PROTOBUF_MEDIA_TYPE;
    }
    return headers;
  };

  /** Sends one request; retried once when a reused keep-alive socket was closed under it. */
  const attempt = (
    path: string,
    headers: OutgoingHttpHeaders,
    body: Uint8Array,
    callOptions: CallOptions,
    idleTimeoutMs: number | undefined,
  ): Attempt => {
    const signal = callOptions.signal;
    let reason: RpcError | undefined;
    let timer: NodeJS.Timeout | undefined;
    let req!: ClientRequest;
    let settled = false;
    let rejectResponse: (error: RpcError) => void = () => {};
    const end = (error: RpcError) => {
      reason ??= error;
      rejectResponse(error);
      req.destroy(error);
    };
    const onAbort = () =>
      end(new RpcError(Code.CANCELLED, `Call to ${endpoint.label}${path} was cancelled`));
    const response = new Promise<IncomingMessage>((resolve, reject) => {
      rejectResponse = (error) => {
        if (settled) return;
        settled = true;
        reject(error);
      };
      const open = (retryStale: boolean) => {
        req = send({
          agent,
          method: "POST",
          protocol: url.protocol,
          hostname: host,
          port: url.port || (secure ? 443 : 80),
          path: `${prefix}${path}`,
          headers,
          // No SNI for an IP address (RFC 6066; Node warns): the certificate is still checked
          // against the address.
          ...(secure && !options.servername && isIP(host) ? { servername: "" } : {}),
        });
        const current = req;
        current.once("response", (res) => {
          if (settled) return res.destroy();
          settled = true;
          resolve(res);
        });
        current.on("error", (error: NodeJS.ErrnoException) => {
          if (settled || current !== req) return;
          if (
            retryStale &&
            current.reusedSocket &&
            (error.code === "ECONNRESET" || error.code === "EPIPE") &&
            reason === undefined
          ) {
            // The server closed an idle keep-alive connection as we reused it: the request never
            // reached it (Node's documented pattern), so send it once more on a new connection.
            open(false);
            return;
          }
          rejectResponse(transportError(endpoint, error));
        });
        if (callOptions.timeoutMs === undefined && idleTimeoutMs !== undefined && idleTimeoutMs > 0)
          current.setTimeout(idleTimeoutMs, () =>
            end(
              new RpcError(
                Code.DEADLINE_EXCEEDED,
                `Read timeout: ${endpoint.label}${path} sent nothing for ${idleTimeoutMs} ms`,
              ),
            ),
          );
        current.end(body);
      };
      open(true);
    });
    if (signal?.aborted) onAbort();
    else signal?.addEventListener("abort", onAbort, { once: true });
    if (callOptions.timeoutMs !== undefined) {
      const ms = Math.max(0, callOptions.timeoutMs);
      timer = setTimeout(
        () =>
          end(
            new RpcError(
              Code.DEADLINE_EXCEEDED,
              `Deadline exceeded: no answer from ${endpoint.label}${path} within ${ms} ms`,
            ),
          ),
        ms,
      );
    }
    return {
      get req() {
        return req;
      },
      response,
      get reason() {
        return reason;
      },
      finish() {
        if (timer) clearTimeout(timer);
        timer = undefined;
        signal?.removeEventListener("abort", onAbort);
      },
    };
  };

  /** The error a failed call reports: this side's reason first, then what the wire said. */
  const callError = (call: Attempt, error: unknown): RpcError =>
    call.reason ??
    (error instanceof RpcError ? error : transportError(endpoint, error as NodeJS.ErrnoException));

  const client: Record<string, unknown> = {
    close: () => agent.destroy(),
  };
  for (const [key, m] of Object.entries(service.methods)) {
    const method = m as GenericMethod;
    const rpc = methodPath(service, method);
    const path = httpPathOf(service, method);
    if (method.responseStream) {
      client[key] = (request: unknown, callOptions: CallOptions = {}) =>
        streamCall(request, callOptions);
    } else {
      client[key] = (request: unknown, callOptions: CallOptions = {}) =>
        unaryCall(request, callOptions);
    }

    async function unaryCall(request: unknown, callOptions: CallOptions): Promise<unknown> {
      const body = method.requestType.encode(request).finish();
      const headers = await headersOf(rpc, callOptions, false, body.length);
      const call = attempt(path, headers, body, callOptions, readTimeoutMs);
      try {
        const res = await call.response;
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) throw await statusError(endpoint, path, res);
        checkMediaType(res, PROTOBUF_MEDIA_TYPE, path);
        const bytes = await readAll(res, maxResponseBytes, endpoint.label);
        let response: unknown;
        try {
          response = method.responseType.decode(bytes);
        } catch (error) {
          throw new RpcError(
            Code.INTERNAL,
            `Invalid protobuf response payload from ${endpoint.label}${path}: ${(error as Error).message}`,
          );
        }
        if (options.onResponseMetadata || callOptions.onResponseMetadata) {
          const md = new HeaderMetadata(res.headers);
          options.onResponseMetadata?.(md);
          callOptions.onResponseMetadata?.(md);
        }
        return response;
      } catch (error) {
        throw callError(call, error);
      } finally {
        call.finish();
      }
    }

    async function* streamCall(
      request: unknown,
      callOptions: CallOptions,
    ): AsyncGenerator<unknown, void, undefined> {
      const body = method.requestType.encode(request).finish();
      const headers = await headersOf(rpc, callOptions, true, body.length);
      const call = attempt(path, headers, body, callOptions, readTimeoutMs);
      let res: IncomingMessage | undefined;
      // The body's own error (a reset): readFrames sees only the end of the chunks.
      let failure: unknown;
      try {
        res = await call.response;
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) throw await statusError(endpoint, path, res);
        checkMediaType(res, PROTOBUF_STREAM_MEDIA_TYPE, path);
        // The read timeout bounds only the wait for the headers (Python: read=None afterwards).
        call.req.setTimeout(0);
        const current = res;
        current.on("error", (error) => {
          failure ??= error;
        });
        for await (const payload of readFrames(current, options.maxFrameBytes)) {
          let message: unknown;
          try {
            message = method.responseType.decode(payload);
          } catch (error) {
            throw new RpcError(
              Code.INTERNAL,
              `Invalid protobuf stream payload from ${endpoint.label}${path}: ${(error as Error).message}`,
            );
          }
          yield message;
        }
        if (failure !== undefined) throw failure;
        if (!current.complete)
          throw new RpcError(Code.UNAVAILABLE, `Stream from ${endpoint.label}${path} was cut off`);
      } catch (error) {
        if (call.reason) throw call.reason;
        if (failure !== undefined) throw callError(call, failure);
        const e = error as NodeJS.ErrnoException;
        if (
          !(e instanceof RpcError) &&
          e.code === undefined &&
          /protobuf stream frame/i.test(e.message ?? "")
        )
          throw new RpcError(Code.DATA_LOSS, `${e.message} from ${endpoint.label}${path}`);
        throw callError(call, error);
      } finally {
        call.finish();
        // An abandoned stream (the consumer stopped early) cancels the HTTP response too.
        if (res && !res.complete) res.destroy();
      }
    }
  }

  function checkMediaType(res: IncomingMessage, expected: string, path: string): void {
    const got = mediaTypeOf(res.headers["content-type"]);
    if (got === undefined || got === expected) return;
    res.resume();
    throw new RpcError(
      Code.UNKNOWN,
      `${endpoint.label}${path} answered with content-type ${got}, not ${expected}: it is not a ` +
        "Flower HTTP API",
    );
  }

  return client as ServiceClient<S>;
}

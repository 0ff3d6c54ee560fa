/**
 * Which wire a server speaks, for clients that guessed wrong. A gRPC client reaching Flower
 * 1.40+'s HTTP API (uvicorn, HTTP/1.1) sees only "Protocol error"/"Failed to connect"
 * (UNAVAILABLE, which a SuperNode retries forever); an HTTP client reaching a TLS gRPC server
 * sees the connection reset. {@link withWireCheck} wraps a {@link ServiceClient}: when a call
 * fails with such an unexplained UNAVAILABLE, it asks the server once ({@link probeWire}) and
 * throws a {@link WireMismatchError} (UNIMPLEMENTED, never retried) or a TLS error (fatal) that
 * says what the server speaks, instead of the bare failure.
 *
 * The probe is one short connection: a TLS handshake offering ALPN `h2` and `http/1.1` (a gRPC
 * server selects `h2`), or, in plaintext or when no protocol was selected, HTTP/2's connection
 * preface with an empty SETTINGS frame: an HTTP/2 server answers with its SETTINGS frame, an
 * HTTP/1.1 server (uvicorn, Node) with `HTTP/1.1 400`. Nothing of the call is sent.
 */
import { isIP, connect as netConnect, type Socket } from "node:net";
import { type TLSSocket, connect as tlsConnect } from "node:tls";
import { Code } from "./code.js";
import { isServiceError, RpcError } from "./rpc-error.js";
import type { CallOptions, ServiceClient } from "./service-client.js";
import type { GenericService } from "./service-definition.js";

/** The wire a peer turned out to speak, when it is not the one a client used. */
export type PeerWire = "grpc" | "http";

/**
 * The peer speaks the other wire: an HTTP client reached a gRPC server, or a gRPC client
 * Flower's HTTP API. Its code is UNIMPLEMENTED, so no retry policy retries it.
 */
export class WireMismatchError extends RpcError {
  /** What the peer speaks. */
  readonly peerWire: PeerWire;
  /** The address that was called. */
  readonly address: string;

  constructor(address: string, peerWire: PeerWire, evidence: string) {
    super(
      Code.UNIMPLEMENTED,
      peerWire === "grpc"
        ? `The server at ${address} speaks gRPC (HTTP/2), not Flower's protobuf-over-HTTP API (${evidence})`
        : `The server at ${address} speaks Flower's protobuf-over-HTTP API (HTTP/1.1), not gRPC (${evidence})`,
    );
    this.name = "WireMismatchError";
    this.peerWire = peerWire;
    this.address = address;
  }
}

/** What {@link probeWire} found. */
export interface WireProbe {
  /** The server completed a TLS handshake. */
  readonly tls: boolean;
  /** HTTP/1.1 (Flower's HTTP API), HTTP/2 (gRPC), or undefined when it did not tell. */
  readonly http: "http1" | "http2" | undefined;
}

/** HTTP/2's client connection preface followed by an empty SETTINGS frame. */
const HTTP2_PREFACE = Buffer.concat([
  Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1"),
  Buffer.from([0, 0, 0, 0x04, 0, 0, 0, 0, 0]),
]);

/** True when `bytes` begin with an HTTP/2 frame on stream 0 (a server's SETTINGS or GOAWAY). */
export function looksLikeHttp2Frame(bytes: Uint8Array | undefined): boolean {
  if (!bytes || bytes.length < 9) return false;
  const type = bytes[3]!;
  const stream = ((bytes[5]! & 0x7f) << 24) | (bytes[6]! << 16) | (bytes[7]! << 8) | bytes[8]!;
  return (type === 0x04 || type === 0x07) && stream === 0;
}

/** What a server's first bytes after the preface say about it. */
export function classifyGreeting(bytes: Uint8Array): "http1" | "http2" | undefined {
  if (Buffer.from(bytes.subarray(0, 5)).toString("latin1") === "HTTP/") return "http1";
  return looksLikeHttp2Frame(bytes) ? "http2" : undefined;
}

/** Sends the preface on `socket` and classifies the first answer (undefined on silence). */
function greet(
  socket: Socket | TLSSocket,
  timeoutMs: number,
): Promise<"http1" | "http2" | undefined> {
  return new Promise((resolve) => {
    let got = Buffer.alloc(0);
    const done = (result: "http1" | "http2" | undefined) => {
      clearTimeout(timer);
      socket.removeAllListeners("data");
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done(classifyGreeting(got)), timeoutMs);
    socket.on("data", (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length >= 9) done(classifyGreeting(got));
    });
    socket.once("error", () => done(classifyGreeting(got)));
    socket.once("close", () => done(classifyGreeting(got)));
    socket.write(HTTP2_PREFACE);
  });
}

/**
 * Asks `host:port` which wire it speaks (see the module note).
 * @returns undefined when nothing answers (refused, unreachable, timeout).
 */
export async function probeWire(
  host: string,
  port: number,
  options: { timeoutMs?: number } = {},
): Promise<WireProbe | undefined> {
  const timeoutMs = options.timeoutMs ?? 2000;
  const bare = host.replace(/^\[(.*)\]$/, "$1");
  const secure = await new Promise<WireProbe | "plain" | undefined>((resolve) => {
    const socket = tlsConnect({
      host: bare,
      port,
      // SNI only for names (RFC 6066); the certificate is not checked, nothing secret is sent.
      ...(isIP(bare) ? {} : { servername: bare }),
      rejectUnauthorized: false,
      ALPNProtocols: ["h2", "http/1.1"],
    });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(undefined);
    }, timeoutMs);
    socket.once("secureConnect", () => {
      clearTimeout(timer);
      if (socket.alpnProtocol === "h2") {
        socket.destroy();
        resolve({ tls: true, http: "http2" });
      } else if (socket.alpnProtocol === "http/1.1") {
        socket.destroy();
        resolve({ tls: true, http: "http1" });
      } else {
        void greet(socket, timeoutMs).then((http) => resolve({ tls: true, http }));
      }
    });
    socket.once("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      const code = error.code ?? "";
      resolve(
        /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH)$/.test(code)
          ? undefined
          : "plain",
      );
    });
  });
  if (secure !== "plain") return secure;
  return new Promise((resolve) => {
    const socket = netConnect({ host: bare, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(undefined);
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      void greet(socket, timeoutMs).then((http) => resolve({ tls: false, http }));
    });
    socket.once("error", () => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
}

/** Failures whose cause is plain (nobody listening, no such host): no probe needed. */
const EXPLAINED =
  /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|Name resolution|DNS resolution|getaddrinfo/i;

/** Options of {@link withWireCheck}. */
export interface WireCheckOptions {
  /** The wire the client speaks. */
  readonly wire: PeerWire;
  /** Whether the client uses TLS. */
  readonly tls: boolean;
  /** The server's host (a name, an IPv4, or an IPv6 address with or without brackets). */
  readonly host: string;
  /** The server's port. */
  readonly port: number;
  /** How the address is named in messages (default `host:port`). */
  readonly label?: string;
  /** The probe (tests); default {@link probeWire}. */
  readonly probe?: (host: string, port: number) => Promise<WireProbe | undefined>;
  /** How long a probe's result is reused, ms (default 10 s). */
  readonly cacheMs?: number;
}

/**
 * The error to throw instead of `error` given what the server speaks, or undefined when the probe
 * does not explain it.
 */
export function mismatchError(
  options: Pick<WireCheckOptions, "wire" | "tls">,
  label: string,
  probe: WireProbe | undefined,
): RpcError | undefined {
  if (!probe) return undefined;
  if (options.wire === "grpc" && probe.http === "http1")
    return new WireMismatchError(label, "http", "it answers HTTP/1.1");
  if (options.wire === "http" && probe.http === "http2")
    return new WireMismatchError(label, "grpc", "it answers HTTP/2");
  if (options.tls && !probe.tls)
    return new RpcError(
      Code.UNAVAILABLE,
      `TLS handshake with ${label} failed: the server does not use TLS (was it started with --insecure?)`,
    );
  if (!options.tls && probe.tls)
    return new RpcError(
      Code.UNAVAILABLE,
      `The server at ${label} requires TLS, but this client connects without it (--insecure); ` +
        "connect with TLS (--root-certificates)",
    );
  return undefined;
}

/**
 * Wraps `client` so that a call failing with an UNAVAILABLE its details do not explain (anything
 * but refused connections and DNS failures) probes the server and, when it speaks the other wire
 * or the other TLS mode, throws the error saying so (see {@link mismatchError}). Other errors, and
 * failures the probe does not explain, pass unchanged.
 */
export function withWireCheck<S extends GenericService>(
  client: ServiceClient<S>,
  options: WireCheckOptions,
): ServiceClient<S> {
  const label = options.label ?? `${options.host}:${options.port}`;
  const probe = options.probe ?? ((host, port) => probeWire(host, port));
  const cacheMs = options.cacheMs ?? 10_000;
  let cached: { at: number; result: Promise<WireProbe | undefined> } | undefined;
  const explain = async (error: unknown): Promise<unknown> => {
    if (!isServiceError(error) || error.code !== Code.UNAVAILABLE) return error;
    if (error instanceof WireMismatchError || EXPLAINED.test(error.details ?? "")) return error;
    const now = performance.now();
    if (!cached || now - cached.at > cacheMs)
      cached = { at: now, result: probe(options.host, options.port).catch(() => undefined) };
    return mismatchError(options, label, await cached.result) ?? error;
  };
  const wrapped: Record<string, unknown> = { close: () => client.close() };
  const methods = client as unknown as Record<
    string,
    (request: unknown, callOptions?: CallOptions) => unknown
  >;
  for (const key of Object.keys(client)) {
    if (key === "close") continue;
    const fn = methods[key]!;
    wrapped[key] = (request: unknown, callOptions?: CallOptions) => {
      const result = fn(request, callOptions);
      if (result instanceof Promise)
        return result.catch(async (error: unknown) => {
          throw await explain(error);
        });
      return (async function* () {
        try {
          yield* result as AsyncIterable<unknown>;
        } catch (error) {
          throw await explain(error);
        }
      })();
    };
  }
  return wrapped as ServiceClient<S>;
}

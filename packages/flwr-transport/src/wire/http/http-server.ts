/**
 * An HTTP(S) server for an {@link HttpRpcRouter}: TLS from the same PEM files as the gRPC
 * servers (`grpc/tls.ts` reads and checks them), HTTP/1.1 with keep-alive as uvicorn serves
 * Flower 1.42, headers up to 16 KiB (Flower's hard limit), and a shutdown that lets in-flight
 * calls finish for a grace period before it cuts the connections.
 */
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { readServerTls, type ServerTlsFiles } from "../../grpc/tls.js";
import type { HttpRpcRouter } from "./http-router.js";

/** Flower's largest accepted header block (16 KiB). */
export const MAX_HEADER_BYTES = 16 * 1024;

/** A listening HTTP server. */
export interface HttpRpcServer {
  /** The bound port. */
  readonly port: number;
  /** Stops accepting, waits up to `graceMs` for in-flight calls, then closes every connection. */
  close(graceMs?: number): Promise<void>;
}

/** Splits `host:port` / `[v6]:port`. */
export function splitHostPort(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(":");
  if (i < 0) throw new Error(`Address (${address}) has no port.`);
  const host = address.slice(0, i).replace(/^\[(.*)\]$/, "$1");
  const port = Number(address.slice(i + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`Address (${address}) has an invalid port.`);
  return { host, port };
}

/**
 * Binds `address` and serves `router` on it.
 * @param tls - PEM files; undefined serves plaintext HTTP.
 * @throws Error (with Node's `code`, e.g. EADDRINUSE) when the address cannot be bound.
 */
export async function listenHttp(
  router: Pick<HttpRpcRouter, "handle">,
  address: string,
  tls: ServerTlsFiles | undefined,
  listenOptions: {
    /**
     * Ask clients for a certificate (optional for them), verified against the CA file; handlers
     * see a verified one as `ctx.peerCertificate` (the Control API's operator certificates).
     */
    requestClientCertificates?: boolean;
  } = {},
): Promise<HttpRpcServer> {
  const { host, port } = splitHostPort(address);
  const options = { maxHeaderSize: MAX_HEADER_BYTES, keepAliveTimeout: 65_000 };
  const clientCerts = listenOptions.requestClientCertificates
    ? { requestCert: true, rejectUnauthorized: false }
    : {};
  const server: Server = tls
    ? createHttpsServer({ ...options, ...readServerTls(tls), ...clientCerts }, router.handle)
    : createHttpServer(options, router.handle);
  // A long-polled call may be held open for 30 s; the default 300 s request timeout stays.
  server.headersTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = server.address();
  const boundPort = typeof bound === "object" && bound ? bound.port : port;
  return {
    port: boundPort,
    close: (graceMs = 1000) =>
      new Promise<void>((resolve) => {
        server.closeIdleConnections();
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}

/**
 * The plain-HTTP endpoint Prometheus scrapes (`--metrics-address`): `GET /metrics` (and HEAD)
 * answers the registry's text format; any other path 404, any other method 405. Plaintext as
 * Prometheus's exporters are; it exposes counts and timings, no names or keys, and binds only
 * where the operator says.
 */
import { createServer } from "node:http";
import { MAX_HEADER_BYTES, splitHostPort } from "../../wire/http/http-server.js";

/** What the endpoint serves. */
export interface MetricsSource {
  /** The exposition text. */
  metricsText(): Promise<string>;
  /** Its content type. */
  readonly contentType: string;
}

/** A listening metrics endpoint. */
export interface MetricsServer {
  /** The bound port. */
  readonly port: number;
  /** Stops it. */
  close(): Promise<void>;
}

/**
 * Binds `address` (`host:port`, port 0 picks one) and serves `source` at `/metrics`.
 * @throws Error (with Node's `code`, e.g. EADDRINUSE) when the address cannot be bound.
 */
export async function listenMetrics(
  source: MetricsSource,
  address: string,
  onError: (error: unknown) => void = () => {},
): Promise<MetricsServer> {
  const { host, port } = splitHostPort(address);
  const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES }, (req, res) => {
    req.resume();
    const path = (req.url ?? "/").split("?")[0];
    if (path !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("Not Found\n");
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" });
      res.end("Method Not Allowed\n");
      return;
    }
    source.metricsText().then(
      (text) => {
        res.writeHead(200, {
          "content-type": source.contentType,
          "content-length": Buffer.byteLength(text),
        });
        res.end(req.method === "HEAD" ? undefined : text);
      },
      (error: unknown) => {
        onError(error);
        res.writeHead(500, { "content-type": "text/plain" }).end("metrics unavailable\n");
      },
    );
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = server.address();
  return {
    port: typeof bound === "object" && bound ? bound.port : port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

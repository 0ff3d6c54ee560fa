/**
 * Raw requests to a SuperLink's Flower 1.42 HTTP API (`/v1/fleet/*`, `/v1/control/*`, `/health`)
 * over real HTTPS with the deployment's CA, for tests that send what no well-behaved client sends:
 * unsigned, forged, stale or replayed Fleet calls, wrong content types, garbage bodies. One fresh
 * connection per request (`agent: false`), so a refused request cannot poison the next one.
 */
import type { KeyObject } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { request } from "node:https";
import {
  formatFlowerTimestamp,
  publicKeyToPem,
  signTimestamp,
} from "../../packages/flwr-crypto/src/index.js";

/** One answer of the HTTP API. */
export interface HttpsAnswer {
  /** HTTP status. */
  readonly status: number;
  /** Response headers. */
  readonly headers: IncomingHttpHeaders;
  /** The raw body. */
  readonly body: Buffer;
  /** The body parsed as JSON when its content type says JSON, else undefined. */
  readonly json: unknown;
}

/** Where the API listens and which CA signs its certificate. */
export interface HttpsTarget {
  readonly port: number;
  /** PEM of the CA certificate. */
  readonly ca: Buffer;
}

/** Sends one request to `127.0.0.1:<port><path>` over TLS, verifying the server against `ca`. */
export function httpsCall(
  target: HttpsTarget,
  method: string,
  path: string,
  options: { body?: Uint8Array; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: target.port,
        path,
        method,
        ca: target.ca,
        agent: false,
        headers: {
          ...(options.body ? { "content-length": options.body.length } : {}),
          ...options.headers,
        },
        timeout: options.timeoutMs ?? 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          const body = Buffer.concat(chunks);
          const isJson = (res.headers["content-type"] ?? "").startsWith("application/json");
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            json: isJson ? JSON.parse(body.toString("utf8")) : undefined,
          });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on("error", reject);
    req.end(options.body ? Buffer.from(options.body) : undefined);
  });
}

/**
 * Flower 1.40+'s three SuperNode auth headers (`flwr-public-key`: base64 of the SPKI PEM,
 * `flwr-timestamp`, `flwr-signature`: base64 of the DER ECDSA-SHA256 signature over the
 * timestamp), built by hand so a test can choose each part: the key announced (`publicKey`),
 * the key that signs (`signer`, default the announced key's private key `privateKey`) and the
 * time (`atMicros`, default now).
 */
export function nodeAuthHeaders(options: {
  privateKey: KeyObject;
  publicKey?: KeyObject;
  signer?: KeyObject;
  atMicros?: number;
}): Record<string, string> {
  const timestamp = formatFlowerTimestamp(options.atMicros ?? Date.now() * 1000);
  const pem = publicKeyToPem(options.publicKey ?? options.privateKey);
  return {
    "flwr-public-key": Buffer.from(pem, "ascii").toString("base64"),
    "flwr-timestamp": timestamp,
    "flwr-signature": signTimestamp(options.signer ?? options.privateKey, timestamp).toString(
      "base64",
    ),
  };
}

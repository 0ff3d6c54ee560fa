/**
 * Flower's SuperNode request signature with WebCrypto: on every Fleet call the headers
 * `flwr-public-key` (base64 of the SPKI PEM bytes), `flwr-timestamp` (Python `isoformat()` UTC,
 * microseconds, strictly increasing per signer) and `flwr-signature` (base64 of the DER
 * ECDSA-SHA256 signature over the ASCII timestamp) — what Flower's `NodeAuthClientInterceptor`
 * sends as `-bin` gRPC metadata and its HTTP client as these base64 headers. The private key
 * never leaves WebCrypto.
 */
import { toBase64 } from "./base64.js";
import { p1363ToDer } from "./der-signature.js";
import { formatFlowerTimestamp } from "./flower-timestamp.js";
import type { SuperNodeKey } from "./web-key.js";

/** HTTP header of the public key (Flower's `flwr-public-key-bin` without the suffix). */
export const PUBLIC_KEY_HTTP_HEADER = "flwr-public-key";
/** HTTP header of the signed timestamp. */
export const TIMESTAMP_HTTP_HEADER = "flwr-timestamp";
/** HTTP header of the signature (Flower's `flwr-signature-bin`). */
export const SIGNATURE_HTTP_HEADER = "flwr-signature";

/** Signs requests for one key. */
export class WebRequestSigner {
  private readonly publicKeyHeader: string;
  private lastMicros = 0;

  /**
   * @param key - the node's key.
   * @param clockOffsetMs - added to the browser's clock (0; the page's "stale clock" check).
   */
  constructor(
    private readonly key: SuperNodeKey,
    private readonly clockOffsetMs = 0,
  ) {
    this.publicKeyHeader = toBase64(new TextEncoder().encode(key.publicKeyPem));
  }

  /** The three headers of one request, with a fresh timestamp. */
  async headers(): Promise<Record<string, string>> {
    const now = Math.floor(
      (Date.now() + this.clockOffsetMs) * 1000 + ((performance.now() * 1000) % 1000),
    );
    const micros = Math.max(now, this.lastMicros + 1);
    this.lastMicros = micros;
    const timestamp = formatFlowerTimestamp(micros);
    const p1363 = new Uint8Array(
      await crypto.subtle.sign(
        { name: "ECDSA", hash: "SHA-256" },
        this.key.privateKey,
        new TextEncoder().encode(timestamp),
      ),
    );
    return {
      [PUBLIC_KEY_HTTP_HEADER]: this.publicKeyHeader,
      [TIMESTAMP_HTTP_HEADER]: timestamp,
      [SIGNATURE_HTTP_HEADER]: toBase64(p1363ToDer(p1363)),
    };
  }
}

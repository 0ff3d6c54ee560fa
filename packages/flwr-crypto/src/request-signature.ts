/**
 * The SuperNode side of Flower's node authentication: three metadata entries
 * on every Fleet call, as Flower's `NodeAuthClientInterceptor` adds them.
 *
 * - `flwr-public-key-bin`: SubjectPublicKeyInfo PEM bytes of the node's key;
 * - `flwr-timestamp`: the current UTC time, Python `isoformat()` style;
 * - `flwr-signature-bin`: ECDSA with SHA-256 (on every curve), DER-encoded,
 *   over the ASCII bytes of the timestamp.
 *
 * Plain values only; the transport puts them into gRPC metadata.
 */
import { type KeyObject, sign } from "node:crypto";
import { assertSuperNodeKey, publicKeyToPem } from "./ec-keys.js";
import { formatFlowerTimestamp } from "./timestamp.js";

/** Metadata key of the node's public key (binary, SPKI PEM bytes). */
export const PUBLIC_KEY_HEADER = "flwr-public-key-bin";
/** Metadata key of the signature (binary, DER ECDSA-SHA256). */
export const SIGNATURE_HEADER = "flwr-signature-bin";
/** Metadata key of the signed timestamp (ASCII). */
export const TIMESTAMP_HEADER = "flwr-timestamp";

/** The three authentication metadata entries of one request. */
export interface AuthMetadata {
  /** SPKI PEM bytes (exactly what the SuperLink stores for the node). */
  readonly [PUBLIC_KEY_HEADER]: Buffer;
  /** e.g. `2026-03-29T20:47:21.123456+00:00`. */
  readonly [TIMESTAMP_HEADER]: string;
  /** DER-encoded ECDSA-SHA256 signature over the ASCII timestamp. */
  readonly [SIGNATURE_HEADER]: Buffer;
}

/**
 * Signs a timestamp the way Flower does: ECDSA with SHA-256, DER-encoded.
 * @param privateKey - EC private key.
 * @param timestamp - the `flwr-timestamp` string.
 */
export function signTimestamp(privateKey: KeyObject, timestamp: string): Buffer {
  return sign("sha256", Buffer.from(timestamp, "ascii"), { key: privateKey, dsaEncoding: "der" });
}

/** Current wall-clock time in microseconds since the epoch (sub-millisecond part from the monotonic clock). */
function wallClockMicros(): number {
  return Date.now() * 1000 + (Math.floor(performance.now() * 1000) % 1000);
}

/**
 * Produces the authentication metadata for each request of one SuperNode.
 *
 * The public key PEM is computed once. Timestamps have microsecond resolution
 * and strictly increase per signer, so two requests never carry the same
 * timestamp (a SuperLink with a replay cache accepts each exactly once).
 */
export class RequestSigner {
  /** SPKI PEM of the node's public key, as text. */
  readonly publicKeyPem: string;
  /** The same PEM as bytes (the `flwr-public-key-bin` value). */
  readonly publicKeyBytes: Buffer;
  private lastMicros = 0;

  /**
   * @param privateKey - the SuperNode's EC private key (P-256, P-384 or P-521).
   * @param clockMicros - wall clock in epoch microseconds (for tests); default the system clock.
   * @throws CryptoError `unsupported-key` for other keys.
   */
  constructor(
    private readonly privateKey: KeyObject,
    private readonly clockMicros: () => number = wallClockMicros,
  ) {
    assertSuperNodeKey(privateKey, "the signing key");
    if (privateKey.type !== "private") throw new TypeError("RequestSigner needs a private key");
    this.publicKeyPem = publicKeyToPem(privateKey);
    this.publicKeyBytes = Buffer.from(this.publicKeyPem, "ascii");
  }

  /**
   * Signs a new request: returns fresh metadata with the current time.
   * @returns the three entries, keyed by their metadata names.
   */
  sign(): AuthMetadata {
    const timestamp = this.nextTimestamp();
    return {
      [PUBLIC_KEY_HEADER]: this.publicKeyBytes,
      [TIMESTAMP_HEADER]: timestamp,
      [SIGNATURE_HEADER]: signTimestamp(this.privateKey, timestamp),
    };
  }

  /**
   * {@link sign} with the ECDSA signature computed on libuv's thread pool, so the caller's event
   * loop keeps running meanwhile (a P-384 signature takes about 2 ms). The timestamp is taken
   * when the call is made.
   */
  signAsync(): Promise<AuthMetadata> {
    const timestamp = this.nextTimestamp();
    return new Promise((resolve, reject) => {
      sign(
        "sha256",
        Buffer.from(timestamp, "ascii"),
        { key: this.privateKey, dsaEncoding: "der" },
        (error, signature) => {
          if (error) reject(error);
          else
            resolve({
              [PUBLIC_KEY_HEADER]: this.publicKeyBytes,
              [TIMESTAMP_HEADER]: timestamp,
              [SIGNATURE_HEADER]: signature,
            });
        },
      );
    });
  }

  /** A fresh timestamp, strictly after the previous one of this signer. */
  private nextTimestamp(): string {
    const micros = Math.max(Math.floor(this.clockMicros()), this.lastMicros + 1);
    this.lastMicros = micros;
    return formatFlowerTimestamp(micros);
  }
}

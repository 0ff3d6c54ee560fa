/**
 * The SuperLink side of Flower's node authentication: checks the three
 * metadata entries of a Fleet request like Flower's
 * `NodeAuthServerInterceptor`, in the same order, and returns a typed result
 * instead of aborting, so that the transport maps every failure to
 * `UNAUTHENTICATED` (Flower lets malformed keys and timestamps escape as
 * generic errors).
 *
 * Built for every request of many nodes: parsed public keys are cached by PEM
 * in a bounded LRU, and verification is one `crypto.verify` with a KeyObject.
 * The node-id check (exact PEM byte match against the node registry) is the
 * caller's, using `publicKey` from the result.
 */
import { createPublicKey, type KeyObject, verify } from "node:crypto";
import { LruCache } from "./lru-cache.js";
import { PUBLIC_KEY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER } from "./request-signature.js";
import { parseFlowerTimestamp } from "./timestamp.js";

/** Flower's `TIMESTAMP_TOLERANCE` (s): how old a signed timestamp may be. */
export const TIMESTAMP_TOLERANCE_SECONDS = 300;
/** Flower's `SYSTEM_TIME_TOLERANCE` (s): allowed clock drift, both directions. */
export const SYSTEM_TIME_TOLERANCE_SECONDS = 5;
/** A request is accepted when `MIN < now − timestamp < MAX` (strict), in microseconds. */
export const MIN_TIMESTAMP_DIFF_MICROS = -SYSTEM_TIME_TOLERANCE_SECONDS * 1_000_000;
/** Upper bound of the window, exclusive: 305 s. */
export const MAX_TIMESTAMP_DIFF_MICROS =
  (TIMESTAMP_TOLERANCE_SECONDS + SYSTEM_TIME_TOLERANCE_SECONDS) * 1_000_000;

/** One metadata value as gRPC delivers it: a string, bytes, or the list of all values for the key. */
export type MetadataInput = string | Uint8Array | readonly (string | Uint8Array)[] | undefined;

/** The three authentication entries as received (e.g. from grpc-js `metadata.get(key)`). */
export interface ReceivedAuthMetadata {
  readonly [PUBLIC_KEY_HEADER]: MetadataInput;
  readonly [TIMESTAMP_HEADER]: MetadataInput;
  readonly [SIGNATURE_HEADER]: MetadataInput;
}

/** Why a request was rejected. */
export type VerificationFailureReason =
  | "missing"
  | "bad-signature"
  | "stale"
  | "future"
  | "malformed-key"
  | "malformed-timestamp";

/** Outcome of {@link SignatureVerifier.verify}. */
export type VerificationResult =
  | {
      readonly ok: true;
      /** The public key PEM as received (compare byte-exact with stored node keys). */
      readonly publicKeyPem: string;
      /** The same, as the received bytes. */
      readonly publicKey: Buffer;
      /** The signed timestamp string. */
      readonly timestamp: string;
      /** The signed timestamp in epoch microseconds. */
      readonly timestampMicros: number;
    }
  | {
      readonly ok: false;
      readonly reason: VerificationFailureReason;
      /** Flower's status message where Flower has one ("Missing authentication metadata", "Invalid signature", "Invalid timestamp"). */
      readonly message: string;
    };

/** Options of {@link SignatureVerifier}. */
export interface SignatureVerifierOptions {
  /** Maximum number of parsed public keys kept; default 20,000. */
  readonly keyCacheSize?: number;
  /** Server clock in epoch milliseconds (may be fractional); default `Date.now`. */
  readonly clock?: () => number;
}

/** Flower's status messages. */
export const AUTH_MESSAGES = {
  missing: "Missing authentication metadata",
  "bad-signature": "Invalid signature",
  stale: "Invalid timestamp",
  future: "Invalid timestamp",
  "malformed-key": "Invalid public key",
  "malformed-timestamp": "Invalid timestamp",
} as const satisfies Record<VerificationFailureReason, string>;

function single(value: MetadataInput, kind: "bytes" | "string"): Buffer | string | undefined {
  let v: string | Uint8Array | undefined;
  if (Array.isArray(value)) {
    if (value.length !== 1) return undefined; // Flower requires exactly one value
    v = value[0] as string | Uint8Array;
  } else {
    v = value as string | Uint8Array | undefined;
  }
  if (v === undefined || v.length === 0) return undefined;
  if (kind === "string") return typeof v === "string" ? v : undefined;
  return typeof v === "string" ? undefined : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

function fail(reason: VerificationFailureReason): VerificationResult {
  return { ok: false, reason, message: AUTH_MESSAGES[reason] };
}

/** Longest accepted SPKI PEM of a public key (a P-521 key is 268 bytes). */
export const MAX_PUBLIC_KEY_PEM_BYTES = 1024;
/** Longest accepted timestamp (Flower's ISO form with microseconds and offset is 32). */
export const MAX_TIMESTAMP_LENGTH = 40;
/** Longest accepted DER signature (P-521's is at most 139 bytes). */
export const MAX_SIGNATURE_BYTES = 256;
const STRICT_PUBLIC_KEY_PEM =
  /^-----BEGIN PUBLIC KEY-----\r?\n(?:[A-Za-z0-9+/=]{1,76}\r?\n)+-----END PUBLIC KEY-----\r?\n?$/;

/**
 * Verifies Flower request signatures with Flower's rules:
 * 1. all three entries present, exactly once, non-empty (else `missing`);
 * 2. the public key is an EC key in PEM (else `malformed-key`);
 * 3. the signature verifies over the ASCII timestamp (else `bad-signature`);
 * 4. the timestamp parses and has an offset (else `malformed-timestamp`);
 * 5. −5 s < now − timestamp < 305 s, strict (else `future` / `stale`).
 */
export class SignatureVerifier {
  private readonly keys: LruCache<string, KeyObject>;
  private readonly clock: () => number;

  /** @param options - see {@link SignatureVerifierOptions}. */
  constructor(options: SignatureVerifierOptions = {}) {
    this.keys = new LruCache(options.keyCacheSize ?? 20_000);
    this.clock = options.clock ?? Date.now;
  }

  /** Number of parsed public keys currently cached. */
  get cachedKeyCount(): number {
    return this.keys.size;
  }

  /**
   * The EC key of a strictly formed SPKI PEM (one `PUBLIC KEY` block, base64 lines, nothing
   * before or after but one final newline, at most {@link MAX_PUBLIC_KEY_PEM_BYTES}); cached keys
   * are only those whose signature verified ({@link remember}), so junk keys cost no memory.
   */
  private publicKeyFor(pem: string): KeyObject | undefined {
    const cached = this.keys.get(pem);
    if (cached) return cached;
    if (pem.length > MAX_PUBLIC_KEY_PEM_BYTES || !STRICT_PUBLIC_KEY_PEM.test(pem)) return undefined;
    let key: KeyObject;
    try {
      key = createPublicKey({ key: pem, format: "pem" });
    } catch {
      return undefined;
    }
    if (key.asymmetricKeyType !== "ec") return undefined;
    return key;
  }

  private remember(pem: string, key: KeyObject): void {
    if (!this.keys.get(pem)) this.keys.set(pem, key);
  }

  /** The checks before the signature: the three entries present, a usable key, ASCII time. */
  private prepare(metadata: ReceivedAuthMetadata):
    | { ok: false; result: VerificationResult }
    | {
        ok: true;
        publicKey: Buffer;
        publicKeyPem: string;
        key: KeyObject;
        timestamp: string;
        signature: Buffer;
      } {
    const publicKey = single(metadata[PUBLIC_KEY_HEADER], "bytes") as Buffer | undefined;
    const timestamp = single(metadata[TIMESTAMP_HEADER], "string") as string | undefined;
    const signature = single(metadata[SIGNATURE_HEADER], "bytes") as Buffer | undefined;
    if (!publicKey || !timestamp || !signature) return { ok: false, result: fail("missing") };
    // Flower's timestamps are about 32 characters; a longer one is malformed, not worth parsing.
    if (timestamp.length > MAX_TIMESTAMP_LENGTH)
      return { ok: false, result: fail("malformed-timestamp") };
    if (signature.length > MAX_SIGNATURE_BYTES) return { ok: false, result: fail("bad-signature") };

    const publicKeyPem = publicKey.toString("latin1");
    const key = this.publicKeyFor(publicKeyPem);
    if (!key) return { ok: false, result: fail("malformed-key") };

    // Flower encodes the timestamp as ASCII before verifying (and fails on anything else).
    // biome-ignore lint/suspicious/noControlCharactersInRegex: ASCII range check
    if (!/^[\x00-\x7f]*$/.test(timestamp))
      return { ok: false, result: fail("malformed-timestamp") };
    return { ok: true, publicKey, publicKeyPem, key, timestamp, signature };
  }

  /** The checks after a valid signature: a well-formed timestamp inside the window. */
  private finish(publicKey: Buffer, publicKeyPem: string, timestamp: string): VerificationResult {
    const timestampMicros = parseFlowerTimestamp(timestamp);
    if (timestampMicros === undefined) return fail("malformed-timestamp");
    const diff = Math.round(this.clock() * 1000) - timestampMicros;
    if (diff <= MIN_TIMESTAMP_DIFF_MICROS) return fail("future");
    if (diff >= MAX_TIMESTAMP_DIFF_MICROS) return fail("stale");
    return { ok: true, publicKeyPem, publicKey, timestamp, timestampMicros };
  }

  /**
   * Checks one request's authentication metadata.
   * @param metadata - the three entries as received.
   * @returns `{ ok: true, publicKeyPem, … }` or `{ ok: false, reason, message }`.
   */
  verify(metadata: ReceivedAuthMetadata): VerificationResult {
    const p = this.prepare(metadata);
    if (!p.ok) return p.result;
    let valid: boolean;
    try {
      valid = verify(
        "sha256",
        Buffer.from(p.timestamp, "ascii"),
        { key: p.key, dsaEncoding: "der" },
        p.signature,
      );
    } catch {
      valid = false;
    }
    if (!valid) return fail("bad-signature");
    this.remember(p.publicKeyPem, p.key);
    return this.finish(p.publicKey, p.publicKeyPem, p.timestamp);
  }

  /**
   * {@link verify} with the ECDSA verification on libuv's thread pool, so a server's event loop
   * keeps serving other calls meanwhile (a P-384 verification takes about 2 ms). The timestamp
   * window is checked when the signature has been verified.
   */
  verifyAsync(metadata: ReceivedAuthMetadata): Promise<VerificationResult> {
    const p = this.prepare(metadata);
    if (!p.ok) return Promise.resolve(p.result);
    return new Promise((resolve) => {
      try {
        verify(
          "sha256",
          Buffer.from(p.timestamp, "ascii"),
          { key: p.key, dsaEncoding: "der" },
          p.signature,
          (error, valid) => {
            if (error || !valid) resolve(fail("bad-signature"));
            else {
              this.remember(p.publicKeyPem, p.key);
              resolve(this.finish(p.publicKey, p.publicKeyPem, p.timestamp));
            }
          },
        );
      } catch {
        resolve(fail("bad-signature"));
      }
    });
  }
}

/**
 * Flower 1.42's SuperExec authentication (experimental in 1.42), the client side: when a
 * SuperNode/SuperLink is started with `--superexec-auth-secret-file`, its Runtime API accepts
 * AcquireTask only with four HMAC headers (`flwr/supercore/dependencies/superexec.py`,
 * `flwr/supercore/auth/superexec.py`):
 *
 * - `flwr-superexec-ts`: Unix time in whole seconds;
 * - `flwr-superexec-nonce`: 16 random bytes, hex (each nonce is accepted once);
 * - `flwr-superexec-body-sha256`: SHA-256 hex of the request's (deterministic) protobuf bytes;
 * - `flwr-superexec-signature`: HMAC-SHA256 hex, keyed with
 *   `HMAC-SHA256(master_secret, "superexec-auth-v1")`, over
 *   `method=<rpc path>\nts=<ts>\nnonce=<nonce>\nbody_sha256=<hex>`.
 *
 * Without a secret the Runtime API checks nothing (`authenticate_superexec_request` returns at
 * once), so a SuperExec of a SuperNode without `--superexec-auth-secret-file` sends no headers.
 * The master secret is the file's exact bytes, which must not be empty
 * (`flwr/supercore/auth/superexec_secret.py`).
 */
import { createHash, createHmac, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";

/** The header names (`flwr/supercore/constant.py:161-164`). */
export const SUPEREXEC_AUTH_HEADERS = {
  timestamp: "flwr-superexec-ts",
  nonce: "flwr-superexec-nonce",
  bodySha256: "flwr-superexec-body-sha256",
  signature: "flwr-superexec-signature",
} as const;

/** `SUPEREXEC_AUTH_SECRET_CONTEXT`. */
const SECRET_CONTEXT = "superexec-auth-v1";

/** The signing key derived from the master secret (`derive_auth_secret`). */
export function deriveAuthSecret(masterSecret: Uint8Array): Buffer {
  return createHmac("sha256", masterSecret).update(SECRET_CONTEXT).digest();
}

/**
 * Reads a SuperExec secret file (exact bytes).
 * @throws Error when it cannot be read or is empty.
 */
export function loadSuperExecAuthSecret(path: string): Buffer {
  let secret: Buffer;
  try {
    secret = readFileSync(path);
  } catch (error) {
    throw new Error(
      `Failed to read SuperExec auth secret from file '${path}': ${(error as Error).message}`,
    );
  }
  if (secret.length === 0) throw new Error("SuperExec auth secret must not be empty");
  return secret;
}

/** The signature over the canonical fields (`compute_superexec_signature`). */
export function superExecSignature(
  authSecret: Uint8Array,
  fields: { method: string; timestamp: number; nonce: string; bodySha256: string },
): string {
  const canonical = `method=${fields.method}\nts=${fields.timestamp}\nnonce=${fields.nonce}\nbody_sha256=${fields.bodySha256}`;
  return createHmac("sha256", authSecret).update(canonical, "utf8").digest("hex");
}

/**
 * The four headers for one call (`create_superexec_auth_metadata`).
 * @param method - the rpc path, e.g. `/flwr.proto.Runtime/AcquireTask`.
 * @param body - the serialized request (ts-proto writes fields in number order, which is
 *   protobuf's deterministic form for messages without maps).
 */
export function superExecAuthHeaders(
  authSecret: Uint8Array,
  method: string,
  body: Uint8Array,
  now: () => number = Date.now,
): Record<string, string> {
  const timestamp = Math.floor(now() / 1000);
  const nonce = randomBytes(16).toString("hex");
  const bodySha256 = createHash("sha256").update(body).digest("hex");
  return {
    [SUPEREXEC_AUTH_HEADERS.timestamp]: String(timestamp),
    [SUPEREXEC_AUTH_HEADERS.nonce]: nonce,
    [SUPEREXEC_AUTH_HEADERS.bodySha256]: bodySha256,
    [SUPEREXEC_AUTH_HEADERS.signature]: superExecSignature(authSecret, {
      method,
      timestamp,
      nonce,
      bodySha256,
    }),
  };
}

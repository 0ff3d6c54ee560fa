/**
 * Fernet tokens (the spec of the Python `cryptography` package, which Flower's
 * `symmetric_encryption.encrypt`/`decrypt` use for the SecAgg+ key shares): the key is 32 bytes
 * in URL-safe base64 (16 signing bytes, then 16 AES-128 bytes); a token is URL-safe base64 of
 * `0x80 ‖ timestamp (uint64 BE, seconds) ‖ IV ‖ AES-128-CBC/PKCS#7 ciphertext ‖
 * HMAC-SHA256(signing key, all before)`. The format is hand-assembled (byte-exact); AES, HMAC and
 * randomness are node:crypto's.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  randomBytes,
  timingSafeEqual,
} from "node:crypto";

const VERSION = 0x80;
const MAX_CLOCK_SKEW_S = 60;

/** A token that is malformed, was tampered with, or was made with another key. */
export class InvalidFernetTokenError extends Error {
  override name = "InvalidFernetTokenError";
}

function decodeKey(key: Uint8Array | string): { signing: Buffer; encryption: Buffer } {
  const text = typeof key === "string" ? key : Buffer.from(key).toString("ascii");
  const raw = Buffer.from(text, "base64url");
  if (raw.length !== 32 || !/^[A-Za-z0-9_-]{43}=?$/.test(text)) {
    throw new RangeError("Fernet key must be 32 url-safe base64-encoded bytes.");
  }
  return { signing: raw.subarray(0, 16), encryption: raw.subarray(16) };
}

/**
 * Encrypts `plaintext` into a Fernet token (ASCII bytes, as Python's `Fernet.encrypt`).
 * @param key - the URL-safe base64 key (e.g. from {@link deriveSharedKey}).
 * @param nowSeconds - token timestamp (default: now).
 * @param iv - the AES-CBC IV (default: 16 random bytes).
 */
export function fernetEncrypt(
  key: Uint8Array | string,
  plaintext: Uint8Array,
  nowSeconds: number = Math.floor(Date.now() / 1000),
  iv: Uint8Array = randomBytes(16),
): Uint8Array {
  const { signing, encryption } = decodeKey(key);
  const cipher = createCipheriv("aes-128-cbc", encryption, iv);
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const head = Buffer.alloc(25);
  head[0] = VERSION;
  head.writeBigUInt64BE(BigInt(nowSeconds), 1);
  head.set(iv, 9);
  const body = Buffer.concat([head, ct]);
  const mac = createHmac("sha256", signing).update(body).digest();
  return new Uint8Array(
    Buffer.from(
      Buffer.concat([body, mac])
        .toString("base64url")
        .padEnd(Math.ceil((body.length + 32) / 3) * 4, "="),
      "ascii",
    ),
  );
}

/**
 * Decrypts a Fernet token (Python's `Fernet.decrypt` without a TTL: a timestamp more than 60 s in
 * the future is rejected).
 * @throws InvalidFernetTokenError for a malformed, forged or foreign token.
 */
export function fernetDecrypt(
  key: Uint8Array | string,
  token: Uint8Array,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): Uint8Array {
  const { signing, encryption } = decodeKey(key);
  const text = Buffer.from(token).toString("latin1");
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(text)) throw new InvalidFernetTokenError("invalid token");
  const raw = Buffer.from(text, "base64url");
  if (raw.length < 57 || (raw.length - 57) % 16 !== 0 || raw[0] !== VERSION) {
    throw new InvalidFernetTokenError("invalid token");
  }
  const body = raw.subarray(0, raw.length - 32);
  const mac = createHmac("sha256", signing).update(body).digest();
  if (!timingSafeEqual(mac, raw.subarray(raw.length - 32))) {
    throw new InvalidFernetTokenError("invalid token signature");
  }
  const ts = Number(raw.readBigUInt64BE(1));
  if (ts > nowSeconds + MAX_CLOCK_SKEW_S)
    throw new InvalidFernetTokenError("token from the future");
  try {
    const decipher = createDecipheriv("aes-128-cbc", encryption, raw.subarray(9, 25));
    return new Uint8Array(Buffer.concat([decipher.update(body.subarray(25)), decipher.final()]));
  } catch {
    throw new InvalidFernetTokenError("invalid token padding");
  }
}

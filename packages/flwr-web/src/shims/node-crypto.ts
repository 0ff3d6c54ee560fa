/**
 * The browser bundle's `node:crypto`: what `@flwr-ts/core` uses of it — `createHash("sha256")`
 * for object ids (synchronous, so WebCrypto's async `digest` cannot serve; `@noble/hashes`'s
 * audited SHA-256) and `webcrypto` (the browser's own `crypto`). Anything else throws.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";

/** A streaming SHA-256 with Node's `update`/`digest` surface. */
class Sha256 {
  private readonly h = sha256.create();

  update(data: Uint8Array | string): this {
    this.h.update(typeof data === "string" ? new TextEncoder().encode(data) : data);
    return this;
  }

  digest(encoding?: "hex"): string | Uint8Array {
    const out = this.h.digest();
    return encoding === "hex" ? bytesToHex(out) : out;
  }
}

/** Node's `createHash`, SHA-256 only. */
export function createHash(algorithm: string): Sha256 {
  if (algorithm.toLowerCase() !== "sha256")
    throw new Error(`createHash(${algorithm}) is not available in the browser (sha256 only)`);
  return new Sha256();
}

/** The browser's WebCrypto. */
export const webcrypto = globalThis.crypto;

/** Node's `randomBytes`, from WebCrypto. */
export function randomBytes(n: number): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(n));
}

/**
 * Shamir secret sharing as Flower 1.29 does it (`flwr.common.secure_aggregation.crypto.shamir`
 * over pycryptodome's `Shamir.split`/`combine` with `ssss=False`): the secret is PKCS#7-padded
 * to 16-byte chunks, each chunk is the constant term of a random polynomial of degree
 * threshold - 1 over GF(2^128) evaluated at x = 1..num, and share i is
 * `uint32le(i) ‖ y_i(chunk 1) ‖ y_i(chunk 2) ‖ …` (16 big-endian bytes per chunk). Hand-written
 * for byte-exact shares (see {@link gfMul}).
 */
import { randomBytes } from "node:crypto";
import { type Gf128, gfAdd, gfFromBytes, gfFromInt, gfInverse, gfMul, gfToBytes } from "./gf128.js";

const BLOCK = 16;

/** PKCS#7 padding to a multiple of 16 bytes (pycryptodome's `pad(data, 16)`). */
function pad(data: Uint8Array): Uint8Array {
  const n = BLOCK - (data.length % BLOCK);
  const out = new Uint8Array(data.length + n);
  out.set(data);
  out.fill(n, data.length);
  return out;
}

/** Removes PKCS#7 padding; undefined when it is malformed (pycryptodome's `unpad` raises). */
function unpad(data: Uint8Array): Uint8Array | undefined {
  if (data.length === 0 || data.length % BLOCK !== 0) return undefined;
  const n = data[data.length - 1]!;
  if (n < 1 || n > BLOCK) return undefined;
  for (let i = data.length - n; i < data.length; i++) if (data[i] !== n) return undefined;
  return data.subarray(0, data.length - n);
}

/**
 * Splits `secret` into `num` shares, any `threshold` of which reconstruct it.
 * @param random - source of the random coefficients, called with 16 for each (default:
 *   node:crypto's CSPRNG); pycryptodome draws them in the same order.
 * @throws RangeError unless 1 ≤ threshold ≤ num < 2^32.
 */
export function createShares(
  secret: Uint8Array,
  threshold: number,
  num: number,
  random: (size: number) => Uint8Array = randomBytes,
): Uint8Array[] {
  if (!Number.isInteger(threshold) || !Number.isInteger(num) || threshold < 1 || num < threshold) {
    throw new RangeError(`Shamir needs integers 1 ≤ threshold ≤ num, got ${threshold}, ${num}`);
  }
  if (num > 0xffffffff) throw new RangeError(`too many shares: ${num}`);
  const padded = pad(secret);
  const chunks = padded.length / BLOCK;
  const shares = Array.from({ length: num }, (_, i) => {
    const s = new Uint8Array(4 + chunks * BLOCK);
    new DataView(s.buffer).setUint32(0, i + 1, true);
    return s;
  });
  const xs = Array.from({ length: num }, (_, i) => gfFromInt(i + 1));
  for (let c = 0; c < chunks; c++) {
    // highest-degree coefficient first, the secret chunk last (Horner's order, as pycryptodome)
    const coeffs: Gf128[] = [];
    for (let k = 0; k < threshold - 1; k++) coeffs.push(gfFromBytes(random(BLOCK)));
    coeffs.push(gfFromBytes(padded, c * BLOCK));
    for (let i = 0; i < num; i++) {
      let y: Gf128 = new Uint32Array(4);
      for (const coeff of coeffs) y = gfAdd(gfMul(xs[i]!, y), coeff);
      gfToBytes(y, shares[i]!, 4 + c * BLOCK);
    }
  }
  return shares;
}

/**
 * Reconstructs a secret from shares made by {@link createShares} (or Flower's `create_shares`),
 * by Lagrange interpolation at 0 over all the shares given.
 * @throws RangeError when the shares are malformed, of different lengths, share an index, or do
 *   not reconstruct a validly padded secret ("Failed to combine shares", as Flower).
 */
export function combineShares(shares: readonly Uint8Array[]): Uint8Array {
  if (shares.length === 0) throw new RangeError("no shares to combine");
  const len = shares[0]!.length;
  if (len < 4 + BLOCK || (len - 4) % BLOCK !== 0) {
    throw new RangeError(`a share must be 4 + 16·k bytes, got ${len}`);
  }
  const chunks = (len - 4) / BLOCK;
  const xs: Gf128[] = [];
  const seen = new Set<number>();
  for (const s of shares) {
    if (s.length !== len) throw new RangeError("shares of different lengths");
    const idx = new DataView(s.buffer, s.byteOffset, 4).getUint32(0, true);
    if (seen.has(idx)) throw new RangeError("Duplicate share");
    seen.add(idx);
    xs.push(gfFromInt(idx));
  }
  const k = shares.length;
  // Lagrange basis at 0 (characteristic 2: x_j - x_m = x_j + x_m)
  const basis: Gf128[] = [];
  for (let j = 0; j < k; j++) {
    let num: Gf128 = gfFromInt(1);
    let den: Gf128 = gfFromInt(1);
    for (let m = 0; m < k; m++) {
      if (m === j) continue;
      num = gfMul(num, xs[m]!);
      den = gfMul(den, gfAdd(xs[j]!, xs[m]!));
    }
    basis.push(gfMul(num, gfInverse(den)));
  }
  const padded = new Uint8Array(chunks * BLOCK);
  for (let c = 0; c < chunks; c++) {
    let acc: Gf128 = new Uint32Array(4);
    for (let j = 0; j < k; j++) {
      acc = gfAdd(acc, gfMul(gfFromBytes(shares[j]!, 4 + c * BLOCK), basis[j]!));
    }
    gfToBytes(acc, padded, c * BLOCK);
  }
  const secret = unpad(padded);
  if (secret === undefined) throw new RangeError("Failed to combine shares");
  return secret;
}

/**
 * Arithmetic in GF(2^128) with the modulus x^128 + x^7 + x^2 + x + 1, elements encoded as
 * pycryptodome's `Crypto.Protocol.SecretSharing._Element` does: a 128-bit integer whose LSB is
 * the constant coefficient, serialized big-endian in 16 bytes. Hand-written: Flower's Shamir
 * shares are pycryptodome's and must be byte-exact; an element is four uint32 words, most
 * significant first.
 */

/** A field element: four uint32 words, most significant first. */
export type Gf128 = Uint32Array;

/** Decodes 16 big-endian bytes. */
export function gfFromBytes(bytes: Uint8Array, offset = 0): Gf128 {
  if (bytes.length - offset < 16) throw new RangeError("a GF(2^128) element needs 16 bytes");
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, 16);
  return Uint32Array.of(
    view.getUint32(0),
    view.getUint32(4),
    view.getUint32(8),
    view.getUint32(12),
  );
}

/** The element of a small integer (e.g. a share index). */
export function gfFromInt(n: number): Gf128 {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`bad index ${n}`);
  return Uint32Array.of(0, 0, 0, n >>> 0);
}

/** Encodes as 16 big-endian bytes into `out` at `offset`. */
export function gfToBytes(a: Gf128, out: Uint8Array = new Uint8Array(16), offset = 0): Uint8Array {
  const view = new DataView(out.buffer, out.byteOffset + offset, 16);
  for (let i = 0; i < 4; i++) view.setUint32(i * 4, a[i]!);
  return out;
}

/** a + b (XOR). */
export function gfAdd(a: Gf128, b: Gf128): Gf128 {
  return Uint32Array.of(a[0]! ^ b[0]!, a[1]! ^ b[1]!, a[2]! ^ b[2]!, a[3]! ^ b[3]!);
}

/** a · b mod (x^128 + x^7 + x^2 + x + 1). */
export function gfMul(a: Gf128, b: Gf128): Gf128 {
  let v0 = a[0]!;
  let v1 = a[1]!;
  let v2 = a[2]!;
  let v3 = a[3]!;
  let z0 = 0;
  let z1 = 0;
  let z2 = 0;
  let z3 = 0;
  for (let w = 3; w >= 0; w--) {
    let bits = b[w]!;
    for (let i = 0; i < 32; i++) {
      if (bits & 1) {
        z0 ^= v0;
        z1 ^= v1;
        z2 ^= v2;
        z3 ^= v3;
      }
      bits >>>= 1;
      const carry = v0 >>> 31;
      v0 = ((v0 << 1) | (v1 >>> 31)) >>> 0;
      v1 = ((v1 << 1) | (v2 >>> 31)) >>> 0;
      v2 = ((v2 << 1) | (v3 >>> 31)) >>> 0;
      v3 = ((v3 << 1) >>> 0) ^ (carry ? 0x87 : 0);
    }
  }
  return Uint32Array.of(z0 >>> 0, z1 >>> 0, z2 >>> 0, z3 >>> 0);
}

/** a^-1 (a^(2^128 - 2)). @throws RangeError for 0. */
export function gfInverse(a: Gf128): Gf128 {
  if ((a[0]! | a[1]! | a[2]! | a[3]!) === 0) throw new RangeError("inversion of zero");
  // t = a^(2^127 - 1), then t^2 = a^(2^128 - 2)
  let t = a;
  for (let i = 1; i < 127; i++) t = gfMul(gfMul(t, t), a);
  return gfMul(t, t);
}

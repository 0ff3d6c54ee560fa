/**
 * ECDSA signature encodings: WebCrypto's `sign({ name: "ECDSA" })` returns IEEE P1363 (`r || s`,
 * each as wide as the curve's order), Flower (Python `cryptography`) and the flwr-ts verifier
 * (`@flwr-ts/crypto`'s `SignatureVerifier`, `dsaEncoding: "der"`) want ASN.1 DER
 * (`SEQUENCE { INTEGER r, INTEGER s }`, minimal two's-complement integers). Own code: a dozen
 * lines of byte-exact DER that no browser API offers.
 */

/** The minimal DER INTEGER body of an unsigned big-endian number. */
function derUnsigned(bytes: Uint8Array): Uint8Array {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const trimmed = bytes.subarray(start);
  // A set high bit would read as negative: prefix a zero byte.
  if ((trimmed[0] ?? 0) & 0x80) {
    const out = new Uint8Array(trimmed.length + 1);
    out.set(trimmed, 1);
    return out;
  }
  return trimmed;
}

/** A DER length (short form below 128, else long form). */
function derLength(n: number): number[] {
  if (n < 0x80) return [n];
  const out: number[] = [];
  for (let v = n; v > 0; v >>>= 8) out.unshift(v & 0xff);
  return [0x80 | out.length, ...out];
}

/**
 * Converts a P1363 signature (`r || s`) to DER.
 * @throws RangeError when the input is empty or of odd length.
 */
export function p1363ToDer(signature: Uint8Array): Uint8Array {
  if (signature.length === 0 || signature.length % 2 !== 0)
    throw new RangeError(`a P1363 signature has an even, non-zero length; got ${signature.length}`);
  const half = signature.length / 2;
  const r = derUnsigned(signature.subarray(0, half));
  const s = derUnsigned(signature.subarray(half));
  const body = [0x02, ...derLength(r.length), ...r, 0x02, ...derLength(s.length), ...s];
  return Uint8Array.from([0x30, ...derLength(body.length), ...body]);
}

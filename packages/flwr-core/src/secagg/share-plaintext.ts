/**
 * The plaintext of an encrypted SecAgg+ key-share message (Flower's
 * `share_keys_plaintext_concat`/`_separate`): `uint64le(src) ‖ uint64le(dst) ‖
 * uint32le(len(seed share)) ‖ seed share ‖ secret-key share`. Byte-exact, hand-written.
 */

/** The fields of a key-share plaintext. */
export interface SharePlaintext {
  /** Node id of the sender. */
  src: bigint;
  /** Node id of the receiver. */
  dst: bigint;
  /** The sender's share of its private-mask seed. */
  seedShare: Uint8Array;
  /** The sender's share of its first secret key. */
  skShare: Uint8Array;
}

/** Serializes a key-share plaintext. */
export function concatSharePlaintext(p: SharePlaintext): Uint8Array {
  const out = new Uint8Array(20 + p.seedShare.length + p.skShare.length);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt.asUintN(64, p.src), true);
  view.setBigUint64(8, BigInt.asUintN(64, p.dst), true);
  view.setUint32(16, p.seedShare.length, true);
  out.set(p.seedShare, 20);
  out.set(p.skShare, 20 + p.seedShare.length);
  return out;
}

/** Parses a key-share plaintext. @throws RangeError when it is too short. */
export function separateSharePlaintext(bytes: Uint8Array): SharePlaintext {
  if (bytes.length < 20) throw new RangeError("key-share plaintext shorter than 20 bytes");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const mark = view.getUint32(16, true);
  if (20 + mark > bytes.length) throw new RangeError("key-share plaintext is truncated");
  return {
    src: view.getBigUint64(0, true),
    dst: view.getBigUint64(8, true),
    seedShare: bytes.slice(20, 20 + mark),
    skShare: bytes.slice(20 + mark),
  };
}

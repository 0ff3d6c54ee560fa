/**
 * The SSH wire encoding (RFC 4251 §5): uint32, string and mpint, as used in
 * OpenSSH key files.
 */

/** Sequential reader over SSH-encoded bytes; throws `RangeError` when the data ends early. */
export class SshReader {
  private offset = 0;

  /** @param buf - the bytes to read. */
  constructor(private readonly buf: Buffer) {}

  /** Bytes not yet read. */
  get remaining(): number {
    return this.buf.length - this.offset;
  }

  /** Reads a big-endian uint32. */
  uint32(): number {
    if (this.remaining < 4) throw new RangeError("SSH data truncated");
    const v = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  /** Reads `n` raw bytes. */
  raw(n: number): Buffer {
    if (this.remaining < n) throw new RangeError("SSH data truncated");
    const out = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  /** Reads a length-prefixed byte string. */
  string(): Buffer {
    return this.raw(this.uint32());
  }

  /** Reads a length-prefixed string and decodes it as ASCII/UTF-8 text. */
  text(): string {
    return this.string().toString("utf8");
  }

  /** Returns the bytes not read yet, consuming them. */
  rest(): Buffer {
    return this.raw(this.remaining);
  }
}

/** Encodes a big-endian uint32. */
export function sshUint32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
}

/** Encodes a length-prefixed string. */
export function sshString(data: Uint8Array | string): Buffer {
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : Buffer.from(data);
  return Buffer.concat([sshUint32(bytes.length), bytes]);
}

/**
 * Encodes a non-negative big-endian integer as an SSH mpint: leading zero
 * bytes stripped, one zero byte prepended when the top bit is set.
 */
export function sshMpint(unsigned: Uint8Array): Buffer {
  let i = 0;
  while (i < unsigned.length && unsigned[i] === 0) i++;
  let body = Buffer.from(unsigned.subarray(i));
  if (body.length > 0 && body[0]! & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
  return sshString(body);
}

/**
 * Minimal DER helpers: just enough to build and take apart an EC
 * SubjectPublicKeyInfo. Not a general ASN.1 library.
 */

/** A parsed tag-length-value element: `tag`, and the content's `[start, end)` in the buffer. */
export interface DerElement {
  readonly tag: number;
  readonly start: number;
  readonly end: number;
}

/**
 * Reads one DER element at `offset`.
 * @throws Error when the element runs past the buffer or uses an unsupported length form.
 */
export function readDer(buf: Uint8Array, offset: number): DerElement {
  if (offset + 2 > buf.length) throw new Error("DER element truncated");
  const tag = buf[offset]!;
  let len = buf[offset + 1]!;
  let start = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > buf.length) throw new Error("bad DER length");
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[start + i]!;
    start += n;
  }
  const end = start + len;
  if (end > buf.length) throw new Error("DER element truncated");
  return { tag, start, end };
}

function encodeLength(len: number): Buffer {
  if (len < 0x80) return Buffer.from([len]);
  const bytes: number[] = [];
  for (let v = len; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** Encodes one DER element from a tag and its content. */
export function derTlv(tag: number, content: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeLength(content.length), content]);
}

/** Encodes an OBJECT IDENTIFIER from its dotted form (e.g. `1.3.132.0.34`). */
export function derOid(dotted: string): Buffer {
  const arcs = dotted.split(".").map(Number);
  const out: number[] = [40 * arcs[0]! + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const groups: number[] = [];
    let v = arc;
    do {
      groups.unshift(v & 0x7f);
      v = Math.floor(v / 128);
    } while (v > 0);
    for (let i = 0; i < groups.length - 1; i++) groups[i]! |= 0x80;
    out.push(...groups);
  }
  return derTlv(0x06, Buffer.from(out));
}

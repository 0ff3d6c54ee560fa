/**
 * A tar writer for generated test archives (regular files, ustar headers), written
 * independently of the `tar-stream` parser that reads them.
 */

/** One regular file of a tar archive. */
export interface TarEntry {
  /** Path inside the archive. */
  name: string;
  /** File contents. */
  data: Uint8Array;
}

const BLOCK = 512;

/** Builds a tar archive of regular files (for tests and tools). */
export function writeTar(files: readonly TarEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const { name, data } of files) {
    if (Buffer.byteLength(name) > 99) throw new Error(`tar name too long: ${name}`);
    const header = new Uint8Array(BLOCK);
    const put = (text: string, offset: number) => header.set(Buffer.from(text, "utf8"), offset);
    put(name, 0);
    put("0000644\0", 100);
    put("0000000\0", 108);
    put("0000000\0", 116);
    put(`${data.length.toString(8).padStart(11, "0")}\0`, 124);
    put("00000000000\0", 136);
    put("        ", 148);
    header[156] = "0".charCodeAt(0);
    put("ustar\0", 257);
    put("00", 263);
    const sum = header.reduce((a, b) => a + b, 0);
    put(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
    parts.push(header, data);
    const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
    if (pad) parts.push(new Uint8Array(pad));
  }
  parts.push(new Uint8Array(BLOCK * 2));
  return Buffer.concat(parts);
}

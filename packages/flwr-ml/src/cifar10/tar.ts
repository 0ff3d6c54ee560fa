/**
 * A minimal reader of (ustar/GNU) tar archives held in memory: regular files
 * only, header checksums verified, truncation detected.
 */
import { Cifar10Error } from "./errors.js";

/** One regular file of a tar archive. */
export interface TarEntry {
  /** Path inside the archive. */
  name: string;
  /** File contents (a view into the archive buffer). */
  data: Uint8Array;
}

const BLOCK = 512;

function field(block: Uint8Array, offset: number, length: number): string {
  let end = offset;
  while (end < offset + length && block[end] !== 0) end++;
  return Buffer.from(block.subarray(offset, end)).toString("utf8");
}

function octal(block: Uint8Array, offset: number, length: number, what: string): number {
  const text = field(block, offset, length).trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text))
    throw new Cifar10Error(
      `corrupt tar archive: ${what} field ${JSON.stringify(text)} is not octal`,
    );
  return Number.parseInt(text, 8);
}

/** Lists the regular files of a tar archive; throws {@link Cifar10Error} when corrupt. */
export function readTar(tar: Uint8Array): TarEntry[] {
  const entries: TarEntry[] = [];
  let offset = 0;
  let longName: string | undefined;
  while (true) {
    if (offset + BLOCK > tar.length) {
      throw new Cifar10Error(
        `truncated tar archive: header expected at byte ${offset} of ${tar.length}`,
      );
    }
    const header = tar.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) break; // end-of-archive marker
    const stored = octal(header, 148, 8, "checksum");
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : (header[i] as number);
    if (sum !== stored)
      throw new Cifar10Error(`corrupt tar archive: bad header checksum at byte ${offset}`);
    const size = octal(header, 124, 12, "size");
    const type = String.fromCharCode(header[156] as number);
    const prefix = field(header, 345, 155);
    const base = field(header, 0, 100);
    const name = longName ?? (prefix ? `${prefix}/${base}` : base);
    const dataStart = offset + BLOCK;
    if (dataStart + size > tar.length) {
      throw new Cifar10Error(
        `truncated tar archive: ${name} needs ${size} bytes, ${tar.length - dataStart} remain`,
      );
    }
    const data = tar.subarray(dataStart, dataStart + size);
    longName = undefined;
    if (type === "L") longName = field(data, 0, size);
    else if (type === "0" || type === "\0") entries.push({ name, data });
    offset = dataStart + Math.ceil(size / BLOCK) * BLOCK;
  }
  return entries;
}

/** Builds a tar archive of regular files (for tests and tools). */
export function writeTar(files: readonly TarEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const { name, data } of files) {
    if (Buffer.byteLength(name) > 99) throw new Cifar10Error(`tar name too long: ${name}`);
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

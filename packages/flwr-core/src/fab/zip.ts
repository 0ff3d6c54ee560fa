/**
 * A minimal zip writer and reader for FABs (no dependency). The writer produces exactly what
 * Python's `zipfile` writes for `writestr(ZipInfo(name, date_time), data)`: STORED entries,
 * version 2.0, Unix creator, mode 0600, no extra fields, a fixed DOS date (so identical files
 * give byte-identical archives, tested against Python). The reader accepts STORED and
 * DEFLATE entries (as other zip tools may write), checks CRC-32s and rejects ZIP64, encryption
 * and split archives.
 */
import { crc32, inflateRawSync } from "node:zlib";
import { FabError } from "./errors.js";

/** One zip entry. */
export interface ZipEntry {
  /** Entry name (POSIX path). */
  readonly name: string;
  /** Uncompressed bytes. */
  readonly data: Uint8Array;
}

/** A local date and time as `[year, month, day, hour, minute, second]`. */
export type ZipDateTime = readonly [number, number, number, number, number, number];

/** Flower's fixed FAB entry date: 2024-10-01 00:00:00 (`FAB_DATE`). */
export const FAB_DATE: ZipDateTime = [2024, 10, 1, 0, 0, 0];

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

function dosDateTime([y, mo, d, h, mi, s]: ZipDateTime): [number, number] {
  return [((y - 1980) << 9) | (mo << 5) | d, (h << 11) | (mi << 5) | Math.floor(s / 2)];
}

/** Whether a name needs the UTF-8 flag (bit 11), as Python sets it for non-ASCII names. */
function utf8Flag(name: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ASCII range check
  return /^[\x00-\x7f]*$/.test(name) ? 0 : 0x800;
}

/**
 * Writes a zip archive with STORED entries in the given order.
 * @param date - the modification date of every entry (default {@link FAB_DATE}).
 */
export function writeZip(entries: readonly ZipEntry[], date: ZipDateTime = FAB_DATE): Uint8Array {
  const [dosDate, dosTime] = dosDateTime(date);
  const chunks: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = encoder.encode(e.name);
    const crc = crc32(e.data) >>> 0;
    const flags = utf8Flag(e.name);
    const local = new Uint8Array(30 + name.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true); // version needed
    lv.setUint16(6, flags, true);
    lv.setUint16(8, 0, true); // STORED
    lv.setUint16(10, dosTime, true);
    lv.setUint16(12, dosDate, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, e.data.length, true);
    lv.setUint32(22, e.data.length, true);
    lv.setUint16(26, name.length, true);
    lv.setUint16(28, 0, true);
    local.set(name, 30);
    const cd = new Uint8Array(46 + name.length);
    const cv = new DataView(cd.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint8(4, 20); // version made by 2.0
    cv.setUint8(5, 3); // Unix
    cv.setUint16(6, 20, true);
    cv.setUint16(8, flags, true);
    cv.setUint16(10, 0, true);
    cv.setUint16(12, dosTime, true);
    cv.setUint16(14, dosDate, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, e.data.length, true);
    cv.setUint32(24, e.data.length, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(38, 0o600 << 16, true); // external attrs: -rw------- (as Python's writestr)
    cv.setUint32(42, offset, true);
    cd.set(name, 46);
    chunks.push(local, e.data);
    central.push(cd);
    offset += local.length + e.data.length;
  }
  const cdSize = central.reduce((a, c) => a + c.length, 0);
  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  const out = new Uint8Array(offset + cdSize + 22);
  let p = 0;
  for (const c of [...chunks, ...central, eocd]) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}

function bad(message: string): FabError {
  return new FabError("bad-zip", `not a valid FAB zip archive: ${message}`);
}

/**
 * Reads every entry of a zip archive, in central-directory order.
 * @throws FabError (`bad-zip`) for truncated or unsupported archives or CRC mismatches.
 */
export function readZip(bytes: Uint8Array): ZipEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 0xffff); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw bad("no end-of-central-directory record");
  if (view.getUint16(eocd + 4, true) !== 0 || view.getUint16(eocd + 6, true) !== 0) {
    throw bad("split archives are not supported");
  }
  const count = view.getUint16(eocd + 10, true);
  const cdSize = view.getUint32(eocd + 12, true);
  const cdOffset = view.getUint32(eocd + 16, true);
  if (cdOffset === 0xffffffff || count === 0xffff) throw bad("ZIP64 archives are not supported");
  if (cdOffset + cdSize > eocd) throw bad("central directory out of bounds");
  const entries: ZipEntry[] = [];
  let p = cdOffset;
  for (let n = 0; n < count; n++) {
    if (p + 46 > eocd || view.getUint32(p, true) !== 0x02014b50) {
      throw bad("corrupt central directory");
    }
    const flags = view.getUint16(p + 8, true);
    const method = view.getUint16(p + 10, true);
    const crc = view.getUint32(p + 16, true);
    const csize = view.getUint32(p + 20, true);
    const usize = view.getUint32(p + 24, true);
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    const localOffset = view.getUint32(p + 42, true);
    let name: string;
    try {
      name = decoder.decode(bytes.subarray(p + 46, p + 46 + nameLen));
    } catch {
      throw bad("an entry name is not valid UTF-8");
    }
    p += 46 + nameLen + extraLen + commentLen;
    if (flags & 0x1) throw bad(`entry ${name} is encrypted`);
    if (localOffset + 30 > cdOffset || view.getUint32(localOffset, true) !== 0x04034b50) {
      throw bad(`entry ${name} has no valid local header`);
    }
    const dataStart =
      localOffset +
      30 +
      view.getUint16(localOffset + 26, true) +
      view.getUint16(localOffset + 28, true);
    if (dataStart + csize > cdOffset) throw bad(`entry ${name} is truncated`);
    const raw = bytes.subarray(dataStart, dataStart + csize);
    let data: Uint8Array;
    if (method === 0) data = raw;
    else if (method === 8) {
      try {
        data = new Uint8Array(inflateRawSync(raw, { maxOutputLength: Math.max(usize, 1) }));
      } catch {
        throw bad(`entry ${name} cannot be inflated`);
      }
    } else throw bad(`entry ${name} uses unsupported compression method ${method}`);
    if (data.length !== usize) throw bad(`entry ${name} has the wrong size`);
    if (crc32(data) >>> 0 !== crc) throw bad(`entry ${name} fails its CRC-32 check`);
    entries.push({ name, data });
  }
  return entries;
}

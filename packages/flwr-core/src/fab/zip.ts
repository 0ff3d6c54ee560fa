/**
 * A minimal zip writer and reader for FABs (no dependency). The writer produces exactly what
 * Python's `zipfile` writes for `writestr(ZipInfo(name, date_time), data)`: STORED entries,
 * version 2.0, Unix creator, mode 0600, no extra fields, a fixed DOS date (so identical files
 * give byte-identical archives, tested against Python). The reader accepts STORED and
 * DEFLATE entries (as other zip tools may write), checks CRC-32s and rejects ZIP64, encryption
 * and split archives. Decompressed sizes are capped per entry and in total
 * ({@link FAB_MAX_ENTRY_BYTES}, {@link FAB_MAX_UNPACKED_BYTES}) from the central directory, before
 * anything is inflated, and no entry inflates past its declared size, so a zip bomb costs no more
 * than the caps; {@link readZipAsync} inflates on libuv's thread pool, for servers.
 *
 * Why hand-written: a FAB's SHA-256 is its identity (the `.fab` file name, the SuperLink's
 * `fab_hash`, signatures over it), so the writer must reproduce Python's `zipfile` to the
 * byte; zip libraries choose their own version fields, flags, extra fields and timestamps, and
 * none promises the same bytes across its releases.
 * The reader stays beside it so the caps above apply before any byte is inflated.
 */
import { promisify } from "node:util";
import { crc32, inflateRaw, inflateRawSync } from "node:zlib";
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
 * Largest decompressed entry (32 MiB). Flower caps FABs at 10 MiB compressed and its `flwr build`
 * stores entries uncompressed, so a legitimate entry is at most about 10 MiB.
 */
export const FAB_MAX_ENTRY_BYTES = 32 * 1024 * 1024;

/** Largest decompressed total of all entries (64 MiB). */
export const FAB_MAX_UNPACKED_BYTES = 64 * 1024 * 1024;

function tooLarge(message: string): FabError {
  return new FabError("too-large", `FAB rejected: ${message}`);
}

/** An entry located in the archive, not yet decompressed. */
interface LocatedEntry {
  readonly name: string;
  readonly method: number;
  readonly crc: number;
  readonly size: number;
  readonly raw: Uint8Array;
}

/** Walks the central directory: every entry checked and located, the size caps applied. */
function locateEntries(bytes: Uint8Array): LocatedEntry[] {
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
  const entries: LocatedEntry[] = [];
  let total = 0;
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
    if (method !== 0 && method !== 8)
      throw bad(`entry ${name} uses unsupported compression method ${method}`);
    if (usize > FAB_MAX_ENTRY_BYTES)
      throw tooLarge(
        `entry ${name} decompresses to ${usize} bytes, which exceeds the limit of ${FAB_MAX_ENTRY_BYTES} bytes per file`,
      );
    total += usize;
    if (total > FAB_MAX_UNPACKED_BYTES)
      throw tooLarge(
        `its decompressed size exceeds the limit of ${FAB_MAX_UNPACKED_BYTES} bytes (at entry ${name})`,
      );
    entries.push({
      name,
      method,
      crc,
      size: usize,
      raw: bytes.subarray(dataStart, dataStart + csize),
    });
  }
  return entries;
}

/** Checks an inflated (or stored) entry's size and CRC-32. */
function checked(e: LocatedEntry, data: Uint8Array): ZipEntry {
  if (data.length !== e.size) throw bad(`entry ${e.name} has the wrong size`);
  if (crc32(data) >>> 0 !== e.crc) throw bad(`entry ${e.name} fails its CRC-32 check`);
  return { name: e.name, data };
}

/**
 * Reads every entry of a zip archive, in central-directory order, inflating synchronously (for
 * CLIs and app processes; servers use {@link readZipAsync}).
 * @throws FabError (`bad-zip`) for truncated or unsupported archives or CRC mismatches,
 *   (`too-large`) when the decompressed sizes exceed the caps.
 */
export function readZip(bytes: Uint8Array): ZipEntry[] {
  return locateEntries(bytes).map((e) => {
    if (e.method === 0) return checked(e, e.raw);
    try {
      return checked(
        e,
        new Uint8Array(inflateRawSync(e.raw, { maxOutputLength: Math.max(e.size, 1) })),
      );
    } catch (error) {
      if (error instanceof FabError) throw error;
      throw bad(`entry ${e.name} cannot be inflated`);
    }
  });
}

const inflateRawAsync = promisify(inflateRaw);

/**
 * {@link readZip} with every DEFLATE entry inflated on libuv's thread pool, one at a time, so a
 * server's event loop keeps answering other calls meanwhile.
 * @throws FabError as {@link readZip}.
 */
export async function readZipAsync(bytes: Uint8Array): Promise<ZipEntry[]> {
  const entries: ZipEntry[] = [];
  for (const e of locateEntries(bytes)) {
    if (e.method === 0) {
      entries.push(checked(e, e.raw));
      continue;
    }
    let data: Uint8Array;
    try {
      data = new Uint8Array(await inflateRawAsync(e.raw, { maxOutputLength: Math.max(e.size, 1) }));
    } catch {
      throw bad(`entry ${e.name} cannot be inflated`);
    }
    entries.push(checked(e, data));
  }
  return entries;
}

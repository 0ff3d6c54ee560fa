/**
 * Parsing of the official CIFAR-10 binary archive
 * (`cifar-10-binary.tar.gz`): members `cifar-10-batches-bin/data_batch_1..5.bin`
 * and `test_batch.bin`, each a sequence of 3073-byte records (1 label byte,
 * then 1024 red, 1024 green, 1024 blue bytes, row-major 32×32).
 *
 * The archive is streamed twice (gunzip and tar as streams, see `tar.ts`): once for the MD5 and
 * the members' sizes, once to decode the records straight into the final NHWC arrays, so the
 * only large allocations are the 50,000 + 10,000 images themselves (about 184 MB of pixels).
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ImageDataset } from "../dataset.js";
import { Cifar10Error } from "./errors.js";
import { readTarGz, type TarGzError } from "./tar.js";

/** MD5 of the official archive. */
export const CIFAR10_MD5 = "c32a1d4ab5d03f1284b67883e8d87530";
/** The official archive's URL. */
export const CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";
/** Class names, by label. */
export const CIFAR10_CLASSES = [
  "airplane",
  "automobile",
  "bird",
  "cat",
  "deer",
  "dog",
  "frog",
  "horse",
  "ship",
  "truck",
] as const;
/** Bytes per record: label + 3·32·32 pixels. */
export const CIFAR10_RECORD_BYTES = 3073;
const TRAIN_MEMBERS = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
const TEST_MEMBER = "test_batch.bin";

/** Training and test sets of CIFAR-10, pixels NHWC uint8. */
export interface Cifar10 {
  /** 50,000 training images (fewer in test archives). */
  train: ImageDataset;
  /** 10,000 test images. */
  test: ImageDataset;
}

/** MD5 hex digest of bytes. */
export function md5(bytes: Uint8Array): string {
  return createHash("md5").update(bytes).digest("hex");
}

/** Parses concatenated records into an NHWC dataset. */
export function parseBatches(batches: readonly Uint8Array[], what: string): ImageDataset {
  let total = 0;
  for (const b of batches) {
    if (b.length % CIFAR10_RECORD_BYTES !== 0) {
      throw new Cifar10Error(
        `${what}: ${b.length} bytes is not a whole number of ${CIFAR10_RECORD_BYTES}-byte records (truncated or not CIFAR-10)`,
      );
    }
    total += b.length / CIFAR10_RECORD_BYTES;
  }
  const pixels = new Uint8Array(total * 3072);
  const labels = new Uint8Array(total);
  let n = 0;
  for (const b of batches) {
    for (let r = 0; r < b.length; r += CIFAR10_RECORD_BYTES, n++) {
      const label = b[r] as number;
      if (label > 9)
        throw new Cifar10Error(
          `${what}: record ${n} has label ${label}, expected 0..9 (corrupt file)`,
        );
      labels[n] = label;
      const dst = n * 3072;
      for (let p = 0; p < 1024; p++) {
        pixels[dst + p * 3] = b[r + 1 + p] as number;
        pixels[dst + p * 3 + 1] = b[r + 1 + 1024 + p] as number;
        pixels[dst + p * 3 + 2] = b[r + 1 + 2048 + p] as number;
      }
    }
  }
  return { count: total, shape: [32, 32, 3], pixels, labels, numClasses: 10 };
}

/** Options of {@link parseCifar10Archive} and {@link readCifar10Archive}. */
export interface ParseArchiveOptions {
  /** Expected MD5 of the archive; default the official one; `null` skips the check. */
  md5?: string | null;
}

const baseName = (name: string) => name.split("/").pop() ?? name;
const isMember = (base: string) => base === TEST_MEMBER || TRAIN_MEMBERS.includes(base);

/** Decodes a stream of records into `set` from image `first`, records split across chunks. */
class RecordSink {
  private readonly carry = new Uint8Array(CIFAR10_RECORD_BYTES);
  private carried = 0;
  private n: number;

  constructor(
    private readonly set: ImageDataset,
    first: number,
    private readonly what: string,
  ) {
    this.n = first;
  }

  write(chunk: Uint8Array): void {
    let at = 0;
    if (this.carried > 0) {
      const take = Math.min(CIFAR10_RECORD_BYTES - this.carried, chunk.length);
      this.carry.set(chunk.subarray(0, take), this.carried);
      this.carried += take;
      at = take;
      if (this.carried < CIFAR10_RECORD_BYTES) return;
      this.record(this.carry, 0);
      this.carried = 0;
    }
    for (; at + CIFAR10_RECORD_BYTES <= chunk.length; at += CIFAR10_RECORD_BYTES)
      this.record(chunk, at);
    if (at < chunk.length) {
      this.carry.set(chunk.subarray(at), 0);
      this.carried = chunk.length - at;
    }
  }

  private record(b: Uint8Array, r: number): void {
    const n = this.n++;
    const label = b[r] as number;
    if (label > 9)
      throw new Cifar10Error(
        `${this.what}: record ${n} has label ${label}, expected 0..9 (corrupt file)`,
      );
    this.set.labels[n] = label;
    const pixels = this.set.pixels;
    const dst = n * 3072;
    for (let p = 0; p < 1024; p++) {
      pixels[dst + p * 3] = b[r + 1 + p] as number;
      pixels[dst + p * 3 + 1] = b[r + 1 + 1024 + p] as number;
      pixels[dst + p * 3 + 2] = b[r + 1 + 2048 + p] as number;
    }
  }
}

function emptySet(count: number): ImageDataset {
  return {
    count,
    shape: [32, 32, 3],
    pixels: new Uint8Array(count * 3072),
    labels: new Uint8Array(count),
    numClasses: 10,
  };
}

/**
 * Verifies, decompresses and parses the binary archive, reading it from `open()` (called
 * once per pass, twice in all). Throws {@link Cifar10Error} with the cause on a bad checksum,
 * truncated gzip, corrupt tar, missing member or malformed records.
 */
export async function parseCifar10Stream(
  open: () => Readable,
  options: ParseArchiveOptions = {},
): Promise<Cifar10> {
  const expected = options.md5 === undefined ? CIFAR10_MD5 : options.md5;
  const mismatch = (actual: string) =>
    new Cifar10Error(
      `checksum mismatch: archive MD5 is ${actual}, expected ${expected}; the file is corrupt or incomplete, delete it and download again`,
    );
  // Pass 1: MD5 of the compressed bytes, and each member's size (the last of a name counts).
  const hash = createHash("md5");
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  const sizes = new Map<string, { size: number; index: number }>();
  let index = 0;
  try {
    pipeline(open(), tap).catch(() => {}); // a failure reaches readTarGz through `tap`
    await readTarGz(tap, async (member) => {
      const base = baseName(member.name);
      if (isMember(base)) sizes.set(base, { size: member.size, index });
      index++;
    });
  } catch (error) {
    if (expected !== null && (error as TarGzError).stage !== "source") {
      // A checksum mismatch explains a broken archive best: hash all of it.
      const all = createHash("md5");
      for await (const chunk of open()) all.update(chunk as Buffer);
      const actual = all.digest("hex");
      if (actual !== expected) throw mismatch(actual);
    }
    throw error;
  }
  if (expected !== null) {
    const actual = hash.digest("hex");
    if (actual !== expected) throw mismatch(actual);
  }
  const sizeOf = (name: string) => {
    const m = sizes.get(name);
    if (!m)
      throw new Cifar10Error(
        `the archive has no ${name}: not the CIFAR-10 binary version (cifar-10-binary.tar.gz)`,
      );
    return m.size;
  };
  const wholeRecords = (bytes: number, what: string) => {
    if (bytes % CIFAR10_RECORD_BYTES !== 0)
      throw new Cifar10Error(
        `${what}: ${bytes} bytes is not a whole number of ${CIFAR10_RECORD_BYTES}-byte records (truncated or not CIFAR-10)`,
      );
    return bytes / CIFAR10_RECORD_BYTES;
  };
  const trainSizes = TRAIN_MEMBERS.map(sizeOf);
  const testSize = sizeOf(TEST_MEMBER);
  for (const size of trainSizes) wholeRecords(size, "training batches");
  const train = emptySet(
    wholeRecords(
      trainSizes.reduce((a, b) => a + b, 0),
      "training batches",
    ),
  );
  const test = emptySet(wholeRecords(testSize, TEST_MEMBER));
  // Pass 2: decode each member's records into its place.
  const first = new Map<string, number>();
  let offset = 0;
  for (const [i, name] of TRAIN_MEMBERS.entries()) {
    first.set(name, offset);
    offset += (trainSizes[i] as number) / CIFAR10_RECORD_BYTES;
  }
  index = 0;
  await readTarGz(open(), async (member, data) => {
    const base = baseName(member.name);
    const at = index++;
    if (!isMember(base) || sizes.get(base)?.index !== at) return;
    const sink =
      base === TEST_MEMBER
        ? new RecordSink(test, 0, TEST_MEMBER)
        : new RecordSink(train, first.get(base) as number, "training batches");
    for await (const chunk of data) sink.write(chunk);
  });
  return { train, test };
}

/**
 * Verifies, decompresses and parses the binary archive held in memory; see
 * {@link parseCifar10Stream}. {@link readCifar10Archive} reads a file without loading it.
 */
export function parseCifar10Archive(
  archive: Uint8Array,
  options: ParseArchiveOptions = {},
): Promise<Cifar10> {
  return parseCifar10Stream(() => Readable.from([archive]), options);
}

/**
 * Verifies, decompresses and parses the binary archive at `path`, streaming it; see
 * {@link parseCifar10Stream}. Throws {@link Cifar10Error} "cannot read …" when the file cannot
 * be opened.
 */
export async function readCifar10Archive(
  path: string,
  options: ParseArchiveOptions = {},
): Promise<Cifar10> {
  try {
    return await parseCifar10Stream(() => createReadStream(path), options);
  } catch (error) {
    const e = error as TarGzError;
    if (e.stage === "source") {
      const code = (e.reason as NodeJS.ErrnoException).code ?? e.reason.message;
      throw new Cifar10Error(`cannot read ${path} (${code})`);
    }
    throw error;
  }
}

/**
 * Parsing of the official CIFAR-10 binary archive
 * (`cifar-10-binary.tar.gz`): members `cifar-10-batches-bin/data_batch_1..5.bin`
 * and `test_batch.bin`, each a sequence of 3073-byte records (1 label byte,
 * then 1024 red, 1024 green, 1024 blue bytes, row-major 32×32).
 */
import { createHash } from "node:crypto";
import { gunzipSync } from "node:zlib";
import type { ImageDataset } from "../dataset.js";
import { Cifar10Error } from "./errors.js";
import { readTar } from "./tar.js";

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

/** Options of {@link parseCifar10Archive}. */
export interface ParseArchiveOptions {
  /** Expected MD5 of the archive; default the official one; `null` skips the check. */
  md5?: string | null;
}

/**
 * Verifies, decompresses and parses the binary archive. Throws
 * {@link Cifar10Error} with the cause on a bad checksum, truncated gzip,
 * corrupt tar, missing member or malformed records.
 */
export function parseCifar10Archive(
  archive: Uint8Array,
  options: ParseArchiveOptions = {},
): Cifar10 {
  const expected = options.md5 === undefined ? CIFAR10_MD5 : options.md5;
  if (expected !== null) {
    const actual = md5(archive);
    if (actual !== expected) {
      throw new Cifar10Error(
        `checksum mismatch: archive MD5 is ${actual}, expected ${expected}; the file is corrupt or incomplete, delete it and download again`,
      );
    }
  }
  let tar: Uint8Array;
  try {
    tar = gunzipSync(archive);
  } catch (error) {
    throw new Cifar10Error(
      `cannot decompress the archive (${(error as Error).message}): truncated or not a .tar.gz`,
    );
  }
  const entries = new Map(readTar(tar).map((e) => [e.name.split("/").pop() ?? e.name, e.data]));
  const member = (name: string) => {
    const data = entries.get(name);
    if (!data)
      throw new Cifar10Error(
        `the archive has no ${name}: not the CIFAR-10 binary version (cifar-10-binary.tar.gz)`,
      );
    return data;
  };
  return {
    train: parseBatches(TRAIN_MEMBERS.map(member), "training batches"),
    test: parseBatches([member(TEST_MEMBER)], TEST_MEMBER),
  };
}

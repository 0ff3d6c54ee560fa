/**
 * The on-disk format of a prepared partition (one directory, e.g.
 * `datasets/cifar10_part_1/`):
 *
 * - `dataset.json`: header (see {@link PartitionHeader}): format name and
 *   version, dataset, `synthetic` flag, partition number, partitioner, image
 *   shape [32, 32, 3], layout NHWC, pixel type uint8, the normalisation applied
 *   on load, classes, and for each split its count and file names;
 * - `train-images.u8`, `test-images.u8`: count × 32 × 32 × 3 raw bytes, NHWC;
 * - `train-labels.u8`, `test-labels.u8`: count bytes, class indices 0..9.
 *
 * Bytes are stored (4× smaller than floats) and normalised when batched:
 * (x/255 − 0.5)/0.5, as the seed's torchvision transform does.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ImageDataset } from "../dataset.js";
import { Cifar10Error } from "./errors.js";
import { CIFAR10_CLASSES } from "./parse.js";
import type { Partition } from "./partition.js";

/** Value of `format` in `dataset.json`. */
export const PARTITION_FORMAT = "flwr-ts-image-dataset";
/** Current version of the format. */
export const PARTITION_FORMAT_VERSION = 1;
/** Name of the header file. */
export const HEADER_FILE = "dataset.json";

/** One split's entry in the header. */
export interface SplitHeader {
  /** Number of examples. */
  count: number;
  /** Pixel file name (relative to the directory). */
  images: string;
  /** Label file name. */
  labels: string;
}

/** Contents of `dataset.json`. */
export interface PartitionHeader {
  format: typeof PARTITION_FORMAT;
  version: number;
  dataset: "cifar10";
  /** True for the synthetic stand-in. */
  synthetic: boolean;
  /** 1-based partition number. */
  partition: number;
  numPartitions: number;
  partitioner: { type: "iid" } | { type: "dirichlet"; alpha: number };
  seed: number;
  shape: [number, number, number];
  layout: "NHWC";
  pixelType: "uint8";
  normalization: { formula: string; mean: number[]; std: number[] };
  numClasses: number;
  classNames: string[];
  splits: { train: SplitHeader; test: SplitHeader };
}

/** A loaded partition. */
export interface LoadedPartition extends Partition {
  /** Its header. */
  header: PartitionHeader;
}

/** What {@link savePartition} needs besides the data. */
export interface SaveMeta {
  partition: number;
  numPartitions: number;
  partitioner: PartitionHeader["partitioner"];
  seed: number;
  synthetic: boolean;
}

/** Writes one partition directory. */
export async function savePartition(
  dir: string,
  part: Partition,
  meta: SaveMeta,
): Promise<PartitionHeader> {
  await mkdir(dir, { recursive: true });
  const split = (name: "train" | "test", data: ImageDataset): SplitHeader => ({
    count: data.count,
    images: `${name}-images.u8`,
    labels: `${name}-labels.u8`,
  });
  const header: PartitionHeader = {
    format: PARTITION_FORMAT,
    version: PARTITION_FORMAT_VERSION,
    dataset: "cifar10",
    synthetic: meta.synthetic,
    partition: meta.partition,
    numPartitions: meta.numPartitions,
    partitioner: meta.partitioner,
    seed: meta.seed,
    shape: [32, 32, 3],
    layout: "NHWC",
    pixelType: "uint8",
    normalization: {
      formula: "(x / 255 - 0.5) / 0.5",
      mean: [0.5, 0.5, 0.5],
      std: [0.5, 0.5, 0.5],
    },
    numClasses: 10,
    classNames: [...CIFAR10_CLASSES],
    splits: { train: split("train", part.train), test: split("test", part.test) },
  };
  for (const [name, data] of [
    ["train", part.train],
    ["test", part.test],
  ] as const) {
    if (!(data.pixels instanceof Uint8Array))
      throw new Cifar10Error("savePartition needs uint8 pixels");
    await writeFile(join(dir, header.splits[name].images), data.pixels);
    await writeFile(join(dir, header.splits[name].labels), data.labels);
  }
  await writeFile(join(dir, HEADER_FILE), `${JSON.stringify(header, null, 2)}\n`);
  return header;
}

function bad(dir: string, what: string): never {
  throw new Cifar10Error(
    `${join(dir, HEADER_FILE)}: ${what}; prepare the dataset again (flwr-ts-prepare-dataset)`,
  );
}

function checkHeader(dir: string, raw: unknown): PartitionHeader {
  if (typeof raw !== "object" || raw === null) bad(dir, "not a JSON object");
  const h = raw as Partial<PartitionHeader>;
  if (h.format !== PARTITION_FORMAT)
    bad(dir, `format is ${JSON.stringify(h.format)}, expected ${PARTITION_FORMAT}`);
  if (h.version !== PARTITION_FORMAT_VERSION) bad(dir, `unsupported version ${h.version}`);
  if (JSON.stringify(h.shape) !== "[32,32,3]" || h.layout !== "NHWC" || h.pixelType !== "uint8") {
    bad(dir, "only 32×32×3 NHWC uint8 images are supported");
  }
  if (h.numClasses !== 10) bad(dir, `numClasses ${h.numClasses}, expected 10`);
  if (typeof h.synthetic !== "boolean") bad(dir, "missing synthetic flag");
  for (const name of ["train", "test"] as const) {
    const s = h.splits?.[name];
    if (
      !s ||
      !Number.isInteger(s.count) ||
      s.count < 0 ||
      typeof s.images !== "string" ||
      typeof s.labels !== "string"
    ) {
      bad(dir, `bad ${name} split entry`);
    }
    if (/[/\\]/.test(s.images) || /[/\\]/.test(s.labels))
      bad(dir, `${name} file names must be plain names`);
  }
  return h as PartitionHeader;
}

const noticed = new Set<string>();

/** Options of {@link loadPartition}. */
export interface LoadPartitionOptions {
  /** Where the one-line synthetic notice goes (default stderr; `null` silences it). */
  notice?: ((line: string) => void) | null;
}

function sharedCopy(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(new SharedArrayBuffer(bytes.length));
  out.set(bytes);
  return out;
}

/**
 * Loads a partition directory, validating the header and file sizes. Loading
 * a synthetic stand-in prints one notice line (once per directory).
 */
export async function loadPartition(
  dir: string,
  options: LoadPartitionOptions = {},
): Promise<LoadedPartition> {
  let text: string;
  try {
    text = await readFile(join(dir, HEADER_FILE), "utf8");
  } catch (error) {
    throw new Cifar10Error(
      `cannot read ${join(dir, HEADER_FILE)} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): is ${dir} a prepared dataset? Run flwr-ts-prepare-dataset`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    bad(dir, "not valid JSON");
  }
  const header = checkHeader(dir, raw);
  const load = async (name: "train" | "test"): Promise<ImageDataset> => {
    const s = header.splits[name];
    // Shared memory: training worker threads read it without a copy.
    const pixels = sharedCopy(await readFile(join(dir, s.images)));
    const labels = sharedCopy(await readFile(join(dir, s.labels)));
    if (pixels.length !== s.count * 3072)
      bad(dir, `${s.images} has ${pixels.length} bytes, expected ${s.count * 3072}`);
    if (labels.length !== s.count)
      bad(dir, `${s.labels} has ${labels.length} bytes, expected ${s.count}`);
    if (labels.some((l) => l > 9)) bad(dir, `${s.labels} has labels outside 0..9`);
    const data: ImageDataset = {
      count: s.count,
      shape: [32, 32, 3],
      pixels,
      labels,
      numClasses: 10,
    };
    if (header.synthetic) data.synthetic = true;
    return data;
  };
  const [train, test] = [await load("train"), await load("test")];
  if (header.synthetic && !noticed.has(dir)) {
    noticed.add(dir);
    const notice =
      options.notice === undefined ? (l: string) => process.stderr.write(`${l}\n`) : options.notice;
    notice?.(
      `NOTICE: ${dir} is a SYNTHETIC stand-in for CIFAR-10 (offline mode); results on it say nothing about CIFAR-10.`,
    );
  }
  return { train, test, header };
}

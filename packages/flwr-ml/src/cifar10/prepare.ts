/**
 * `prepareCifar10`: get CIFAR-10 (download, local archive, or the synthetic
 * stand-in), split its training set into partitions with train/test parts,
 * and save each under `<outDir>/cifar10_part_<i>/` (i from 1).
 */
import { access } from "node:fs/promises";
import { join } from "node:path";
import type { ImageDataset } from "../dataset.js";
import { downloadCifar10, md5File } from "./download.js";
import { Cifar10Error } from "./errors.js";
import { type PartitionHeader, savePartition } from "./format.js";
import { CIFAR10_MD5, readCifar10Archive } from "./parse.js";
import { partitionDataset } from "./partition.js";
import { syntheticCifar10 } from "./synthetic.js";

/** Where the images come from. */
export type Cifar10Source =
  | { kind: "download"; url?: string }
  | { kind: "archive"; path: string }
  | { kind: "synthetic"; count?: number };

/** Options of {@link prepareCifar10}. */
export interface PrepareCifar10Options {
  /** Output directory (default `datasets`). */
  outDir?: string;
  /** Number of partitions (default 2). */
  numPartitions?: number;
  /** Source (default: download). */
  source?: Cifar10Source;
  /** Dirichlet alpha for non-IID partitions; omit for IID. */
  dirichletAlpha?: number;
  /** Seed of shuffling and splitting (default 42). */
  seed?: number;
  /** Held-out fraction per partition (default 0.2, as the Flower example). */
  testFraction?: number;
  /** Progress lines (default stderr; `null` silences). */
  log?: ((line: string) => void) | null;
}

/** Result of {@link prepareCifar10}. */
export interface PreparedDataset {
  /** True when the synthetic stand-in was written. */
  synthetic: boolean;
  /** Each partition's directory and header. */
  partitions: { dir: string; header: PartitionHeader }[];
}

/** Name of partition `i` (1-based) under the output directory. */
export function partitionDirName(i: number): string {
  return `cifar10_part_${i}`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

async function loadSource(
  source: Cifar10Source,
  outDir: string,
  log: (l: string) => void,
): Promise<ImageDataset> {
  if (source.kind === "synthetic") {
    const count = source.count ?? 10_000;
    if (!Number.isInteger(count) || count < 10)
      throw new Cifar10Error(`synthetic sample count must be an integer ≥ 10, got ${count}`);
    log(
      `NOTICE: writing a SYNTHETIC stand-in for CIFAR-10 (${count} images); results on it say nothing about CIFAR-10.`,
    );
    return syntheticCifar10({ count });
  }
  let path: string;
  if (source.kind === "archive") {
    path = source.path;
  } else {
    path = join(outDir, "cifar-10-binary.tar.gz");
    const cached = (await exists(path)) && (await md5File(path)) === CIFAR10_MD5;
    if (cached) log(`using the archive already downloaded at ${path}`);
    else await downloadCifar10(path, source.url === undefined ? {} : { url: source.url });
  }
  return (await readCifar10Archive(path)).train;
}

/** Prepares the partitions; see the module documentation. */
export async function prepareCifar10(
  options: PrepareCifar10Options = {},
): Promise<PreparedDataset> {
  const outDir = options.outDir ?? "datasets";
  const numPartitions = options.numPartitions ?? 2;
  const seed = options.seed ?? 42;
  const source = options.source ?? { kind: "download" };
  const log =
    options.log === undefined
      ? (l: string) => process.stderr.write(`${l}\n`)
      : (options.log ?? (() => {}));
  const data = await loadSource(source, outDir, log);
  const parts = partitionDataset(data, {
    numPartitions,
    seed,
    ...(options.dirichletAlpha === undefined ? {} : { dirichletAlpha: options.dirichletAlpha }),
    ...(options.testFraction === undefined ? {} : { testFraction: options.testFraction }),
  });
  const synthetic = source.kind === "synthetic";
  const partitions: PreparedDataset["partitions"] = [];
  for (const [i, part] of parts.entries()) {
    const dir = join(outDir, partitionDirName(i + 1));
    const header = await savePartition(dir, part, {
      partition: i + 1,
      numPartitions,
      partitioner:
        options.dirichletAlpha === undefined
          ? { type: "iid" }
          : { type: "dirichlet", alpha: options.dirichletAlpha },
      seed,
      synthetic,
    });
    log(
      `${dir}: ${part.train.count} train + ${part.test.count} test images${synthetic ? " (SYNTHETIC)" : ""}`,
    );
    partitions.push({ dir, header });
  }
  return { synthetic, partitions };
}

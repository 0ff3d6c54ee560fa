/**
 * Splitting a dataset into federated partitions, each with a train and a test
 * part, as the Flower example does (partition the training set, then split
 * every partition 80/20).
 */
import { type ImageDataset, permutation, seededRandom } from "../dataset.js";
import { Cifar10Error } from "./errors.js";

/** A partition's training and test parts. */
export interface Partition {
  /** Training examples. */
  train: ImageDataset;
  /** Test examples. */
  test: ImageDataset;
}

/** Options of {@link partitionDataset}. */
export interface PartitionOptions {
  /** Number of partitions (≥ 1). */
  numPartitions: number;
  /** Seed of every random choice (default 42). */
  seed?: number;
  /** Dirichlet concentration for label-skewed (non-IID) partitions; omit for IID. */
  dirichletAlpha?: number;
  /** Fraction of each partition held out as its test part (default 0.2). */
  testFraction?: number;
}

/** Copies the examples `indices` of `data` into a new dataset. */
export function subset(data: ImageDataset, indices: ArrayLike<number>): ImageDataset {
  const size = data.shape[0] * data.shape[1] * data.shape[2];
  const pixels = new Uint8Array(indices.length * size);
  const labels = new Uint8Array(indices.length);
  if (!(data.pixels instanceof Uint8Array))
    throw new Cifar10Error("partitioning needs uint8 pixels");
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k] as number;
    pixels.set(data.pixels.subarray(i * size, (i + 1) * size), k * size);
    labels[k] = data.labels[i] as number;
  }
  const out: ImageDataset = {
    count: indices.length,
    shape: data.shape,
    pixels,
    labels,
    numClasses: data.numClasses,
  };
  if (data.synthetic) out.synthetic = true;
  return out;
}

/** A Gamma(alpha, 1) sample (Marsaglia–Tsang; boosted for alpha < 1). */
function gamma(alpha: number, random: () => number): number {
  if (alpha < 1) return gamma(alpha + 1, random) * random() ** (1 / alpha);
  const d = alpha - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  while (true) {
    let x: number;
    let v: number;
    do {
      // Box–Muller normal
      x = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - random();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** Example indices of each partition (IID or Dirichlet over labels). */
export function partitionIndices(data: ImageDataset, options: PartitionOptions): number[][] {
  const n = options.numPartitions;
  if (!Number.isInteger(n) || n < 1)
    throw new Cifar10Error(`number of partitions must be a positive integer, got ${n}`);
  if (n > data.count)
    throw new Cifar10Error(`cannot split ${data.count} examples into ${n} partitions`);
  const random = seededRandom(options.seed ?? 42);
  const parts: number[][] = Array.from({ length: n }, () => []);
  const alpha = options.dirichletAlpha;
  if (alpha === undefined) {
    const order = permutation(data.count, random);
    for (let p = 0; p < n; p++) {
      const start = Math.floor((p * data.count) / n);
      const end = Math.floor(((p + 1) * data.count) / n);
      parts[p] = Array.from(order.subarray(start, end));
    }
    return parts;
  }
  if (!(alpha > 0 && Number.isFinite(alpha)))
    throw new Cifar10Error(`Dirichlet alpha must be a positive number, got ${alpha}`);
  // Per class: shuffle its examples and cut them by Dirichlet(alpha) proportions.
  for (let k = 0; k < data.numClasses; k++) {
    const members: number[] = [];
    for (let i = 0; i < data.count; i++) if (data.labels[i] === k) members.push(i);
    const shuffled = permutation(members.length, random);
    const weights = Array.from({ length: n }, () => gamma(alpha, random));
    const total = weights.reduce((a, b) => a + b, 0);
    let acc = 0;
    let start = 0;
    for (let p = 0; p < n; p++) {
      acc += (weights[p] as number) / total;
      const end = p === n - 1 ? members.length : Math.round(acc * members.length);
      for (let j = start; j < end; j++) parts[p]!.push(members[shuffled[j] as number] as number);
      start = Math.max(start, end);
    }
  }
  for (const [p, part] of parts.entries()) {
    if (part.length < 2) {
      throw new Cifar10Error(
        `Dirichlet partition ${p + 1} got ${part.length} examples; use a larger alpha, fewer partitions or another seed`,
      );
    }
    const order = permutation(part.length, random);
    parts[p] = Array.from(order, (i) => part[i] as number);
  }
  return parts;
}

/** Splits `data` into partitions with train/test parts. */
export function partitionDataset(data: ImageDataset, options: PartitionOptions): Partition[] {
  const testFraction = options.testFraction ?? 0.2;
  if (!(testFraction >= 0 && testFraction < 1))
    throw new Cifar10Error(`test fraction must be in [0, 1), got ${testFraction}`);
  return partitionIndices(data, options).map((indices) => {
    const nTest = Math.round(indices.length * testFraction);
    const nTrain = indices.length - nTest;
    return {
      train: subset(data, indices.slice(0, nTrain)),
      test: subset(data, indices.slice(nTrain)),
    };
  });
}

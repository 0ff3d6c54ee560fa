/**
 * Shared kernel test cases: random data (including negative values), odd
 * shapes, batch 1, stride and padding variants; and a seeded generator.
 */
import * as tf from "../../src/tf.js";

/** Deterministic uniform(-1, 1) values (mulberry32). */
export function randomValues(size: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

/** A convolution configuration to test. */
export interface ConvCase {
  name: string;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: [number, number];
  pad: "valid" | "same" | [[number, number], [number, number], [number, number], [number, number]];
}

/** Convolution cases covering the Net's layers and edge shapes. */
export const CONV_CASES: ConvCase[] = [
  { name: "Net conv1", x: [4, 32, 32, 3], filter: [5, 5, 3, 6], strides: [1, 1], pad: "valid" },
  { name: "Net conv2", x: [3, 14, 14, 6], filter: [5, 5, 6, 16], strides: [1, 1], pad: "valid" },
  { name: "batch 1 odd", x: [1, 7, 9, 2], filter: [3, 2, 2, 5], strides: [1, 1], pad: "valid" },
  { name: "same padding", x: [2, 9, 8, 3], filter: [3, 3, 3, 4], strides: [1, 1], pad: "same" },
  { name: "same even kernel", x: [2, 6, 7, 2], filter: [4, 2, 2, 3], strides: [1, 1], pad: "same" },
  {
    name: "stride 2 valid",
    x: [2, 11, 10, 3],
    filter: [3, 3, 3, 4],
    strides: [2, 2],
    pad: "valid",
  },
  { name: "stride 2x3 same", x: [3, 9, 13, 2], filter: [3, 2, 2, 3], strides: [2, 3], pad: "same" },
  {
    name: "explicit pad",
    x: [2, 6, 5, 2],
    filter: [3, 3, 2, 3],
    strides: [1, 1],
    pad: [
      [0, 0],
      [1, 2],
      [2, 0],
      [0, 0],
    ],
  },
];

/** A pooling configuration to test. */
export interface PoolCase {
  name: string;
  x: [number, number, number, number];
  filterSize: [number, number];
  strides: [number, number];
  pad: "valid" | "same";
}

/** Max-pooling cases. */
export const POOL_CASES: PoolCase[] = [
  { name: "Net pool1", x: [3, 28, 28, 6], filterSize: [2, 2], strides: [2, 2], pad: "valid" },
  { name: "Net pool2", x: [2, 10, 10, 16], filterSize: [2, 2], strides: [2, 2], pad: "valid" },
  { name: "batch 1 odd", x: [1, 7, 9, 3], filterSize: [2, 2], strides: [2, 2], pad: "valid" },
  {
    name: "overlapping 3/2 same",
    x: [2, 9, 8, 2],
    filterSize: [3, 3],
    strides: [2, 2],
    pad: "same",
  },
  { name: "3x2 stride 1", x: [2, 5, 6, 3], filterSize: [3, 2], strides: [1, 1], pad: "valid" },
];

/**
 * Largest difference between `a` and the reference `b`, absolute for values
 * up to 1 and relative above (float32 sums of thousands of products carry
 * rounding errors proportional to their magnitude). Infinity on length mismatch.
 */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const ref = b[i] as number;
    const d = Math.abs((a[i] as number) - ref) / Math.max(1, Math.abs(ref));
    if (!(d <= m)) m = d; // NaN propagates as a failure
  }
  return m;
}

/** Runs a kernel through the engine on the current backend and reads the result. */
export function runKernel(
  name: string,
  inputs: Record<string, Float32Array | tf.Tensor>,
  shapes: Record<string, number[]>,
  attrs: object,
): { shape: number[]; values: Float32Array } {
  return tf.tidy(() => {
    const tensors: Record<string, tf.Tensor> = {};
    for (const [k, v] of Object.entries(inputs)) {
      tensors[k] = v instanceof tf.Tensor ? v : tf.tensor(v, shapes[k]);
    }
    const out = tf
      .engine()
      .runKernel(name, tensors as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as tf.Tensor;
    return { shape: out.shape, values: out.dataSync() as Float32Array };
  });
}

/** Output shape of a convolution case. */
export function convOutShape(c: ConvCase): number[] {
  return tf.backend_util.computeConv2DInfo(c.x, c.filter, c.strides, 1, c.pad).outShape;
}

/** Output shape of a pooling case. */
export function poolOutShape(c: PoolCase): number[] {
  return tf.backend_util.computePool2DInfo(c.x, c.filterSize, c.strides, 1, c.pad).outShape;
}

/** Number of elements of a shape. */
export function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

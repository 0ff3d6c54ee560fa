/**
 * In-memory image classification data and the batches built from it.
 */

/** Images with labels, pixels NHWC. */
export interface ImageDataset {
  /** Number of examples. */
  count: number;
  /** Image height, width, channels. */
  shape: readonly [number, number, number];
  /**
   * Pixels, `count · h · w · c` values in NHWC order: raw bytes (normalised
   * when batched, see {@link normalizePixel}) or already-normalised floats.
   */
  pixels: Uint8Array | Float32Array;
  /** Class index of each example. */
  labels: Uint8Array | Int32Array;
  /** Number of classes. */
  numClasses: number;
  /** True for the synthetic stand-in (results trained on it must say so). */
  synthetic?: boolean;
}

/** The seed's normalisation: (x/255 − 0.5)/0.5, mapping bytes to [−1, 1]. */
export function normalizePixel(byte: number): number {
  return byte / 127.5 - 1;
}

/** Invalid dataset contents. */
export class DatasetError extends Error {
  /** @param message - what is wrong and what to do. */
  constructor(message: string) {
    super(message);
    this.name = "DatasetError";
  }
}

/** Checks sizes and label range; throws {@link DatasetError}. */
export function validateDataset(data: ImageDataset): void {
  const [h, w, c] = data.shape;
  if (!Number.isInteger(data.count) || data.count < 0)
    throw new DatasetError(`dataset count ${data.count} is not a non-negative integer`);
  if (data.pixels.length !== data.count * h * w * c) {
    throw new DatasetError(
      `dataset has ${data.pixels.length} pixel values, expected ${data.count}×${h}×${w}×${c}`,
    );
  }
  if (data.labels.length !== data.count)
    throw new DatasetError(`dataset has ${data.labels.length} labels for ${data.count} examples`);
  for (let i = 0; i < data.labels.length; i++) {
    const l = data.labels[i] as number;
    if (!(l >= 0 && l < data.numClasses))
      throw new DatasetError(`label ${l} of example ${i} is outside 0..${data.numClasses - 1}`);
  }
}

/**
 * Fills reusable batch buffers from examples of a dataset: no tensor slicing,
 * just copies (and normalisation of bytes) into one Float32Array.
 */
export class BatchBuilder {
  /** Batch pixels, NHWC, normalised (length batchSize · h · w · c). */
  readonly x: Float32Array;
  /** Batch labels (length batchSize). */
  readonly y: Int32Array;
  private readonly imageSize: number;

  /**
   * @param data - the dataset.
   * @param batchSize - the largest batch this builder fills.
   */
  constructor(
    private readonly data: ImageDataset,
    readonly batchSize: number,
  ) {
    const [h, w, c] = data.shape;
    this.imageSize = h * w * c;
    this.x = new Float32Array(batchSize * this.imageSize);
    this.y = new Int32Array(batchSize);
  }

  /**
   * Copies examples `order[start .. start + n)` (or `start .. start + n` when
   * `order` is omitted) into the buffers; returns views of the filled part.
   */
  fill(start: number, n: number, order?: Uint32Array): { x: Float32Array; y: Int32Array } {
    const size = this.imageSize;
    const { pixels, labels } = this.data;
    for (let k = 0; k < n; k++) {
      const idx = order ? (order[start + k] as number) : start + k;
      const src = idx * size;
      const dst = k * size;
      if (pixels instanceof Float32Array) {
        this.x.set(pixels.subarray(src, src + size), dst);
      } else {
        const x = this.x;
        for (let i = 0; i < size; i++) x[dst + i] = (pixels[src + i] as number) / 127.5 - 1;
      }
      this.y[k] = labels[idx] as number;
    }
    return { x: this.x.subarray(0, n * size), y: this.y.subarray(0, n) };
  }
}

/** A random permutation of 0..n−1 (Fisher–Yates) from `random` in [0, 1). */
export function permutation(n: number, random: () => number): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = p[i] as number;
    p[i] = p[j] as number;
    p[j] = t;
  }
  return p;
}

/** A seeded uniform [0, 1) generator (mulberry32). */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The Net's training step in native code (`@flwr-ts/ml-native`, an optional
 * N-API addon compiled from C at install): the same interface as
 * {@link NetStep} — loss and every parameter's gradient into a flat vector,
 * resident weights and momentum, PyTorch's SGD-momentum update, logits — so
 * `train`, the data-parallel workers and evaluation use whichever is there.
 *
 * Why: tfjs's wasm kernels (XNNPACK, 2–4 GMAC/s on this Net's convolutions,
 * plus their JavaScript glue) held training to about 0.45× PyTorch's
 * images/s; the addon trains a 16-image chunk in ≈ 2.4 ms of one core
 * (≈ 6,700 img/s, 2.2× PyTorch's single thread; figures in the package
 * README). The resident weights and momentum are plain Float32Arrays owned
 * by JavaScript (the addon's only native memory is a per-thread scratch
 * buffer freed with the thread), so nothing needs disposing but the arrays.
 *
 * `FLWR_ML_NATIVE=0` disables the addon (checked on every
 * {@link createNetStep}); without it flwr-ml uses the wasm {@link NetStep}.
 */
import { createRequire } from "node:module";
import { NET_INPUT_SHAPE, NET_NUM_CLASSES } from "./net.js";
import { NetStep, type NetStepTimings } from "./net-step.js";
import { PARAM_COUNT, PARAM_SLOTS } from "./parallel/param-layout.js";

/** The addon's functions (see `packages/flwr-ml-native/index.d.ts`). */
export interface NativeNetKernels {
  readonly paramCount: number;
  trainStep(
    params: Float32Array,
    x: Float32Array,
    labels: Int32Array,
    n: number,
    grads: Float32Array,
  ): number;
  forward(params: Float32Array, x: Float32Array, n: number, logits: Float32Array): void;
  sgdStep(
    weights: Float32Array,
    momentum: Float32Array,
    parts: readonly Float32Array[],
    scales: readonly number[],
    learningRate: number,
    momentumFactor: number,
  ): void;
  scratchBytes(): number;
  /** trainStep plus every intermediate (see the addon's index.d.ts); for tests. */
  debugStep(
    params: Float32Array,
    x: Float32Array,
    labels: Int32Array,
    n: number,
    grads: Float32Array,
    out: Float32Array,
  ): number;
}

interface NativePackage {
  load(): NativeNetKernels | null;
  loadError(): string | undefined;
}

/** The parameter layout the addon hard-codes (offsets in the flat vector). */
const NATIVE_LAYOUT = [0, 450, 456, 2856, 2872, 50872, 50992, 61072, 61156, 61996];

let pkg: NativePackage | null | undefined;
let pkgError: string | undefined;

function nativePackage(): NativePackage | null {
  if (pkg === undefined) {
    try {
      pkg = createRequire(import.meta.url)("@flwr-ts/ml-native") as NativePackage;
    } catch (error) {
      pkg = null;
      pkgError = `@flwr-ts/ml-native is not installed (${(error as Error).message.split("\n")[0]})`;
    }
  }
  return pkg;
}

/**
 * The native kernels, or undefined when the addon is disabled
 * (`FLWR_ML_NATIVE=0`), not installed or not built (see
 * {@link nativeUnavailableReason}).
 */
export function nativeNetKernels(): NativeNetKernels | undefined {
  if (process.env.FLWR_ML_NATIVE === "0") return undefined;
  const layoutMatches =
    PARAM_COUNT === 62006 && PARAM_SLOTS.every((s, i) => s.offset === NATIVE_LAYOUT[i]);
  if (!layoutMatches) return undefined;
  return nativePackage()?.load() ?? undefined;
}

/** Why `nativeNetKernels()` returns undefined (undefined when it does not). */
export function nativeUnavailableReason(): string | undefined {
  if (process.env.FLWR_ML_NATIVE === "0") return "disabled by FLWR_ML_NATIVE=0";
  if (nativeNetKernels()) return undefined;
  return pkgError ?? nativePackage()?.loadError() ?? "parameter layout differs from the addon's";
}

/**
 * Which engine trains (and evaluates) the seed's Net on the wasm/cpu path
 * in this process: `native` (the addon) or `tfjs` (the backend's kernels
 * through `NetStep`), with the reason when the addon is not used.
 */
export function netTrainingEngine(): { engine: "native" | "tfjs"; reason?: string } {
  if (nativeNetKernels()) return { engine: "native" };
  return { engine: "tfjs", reason: nativeUnavailableReason() };
}

/** What {@link NetStep} and {@link NativeNetStep} have in common. */
export interface NetStepLike {
  /** `wasm`/`cpu` (tfjs kernels) or `native`. */
  readonly backendName: string;
  /** Per-phase timings (ms) where the implementation records them. */
  timings: NetStepTimings | undefined;
  loadWeights(flat: Float32Array): void;
  readWeights(out: Float32Array): void;
  momentumStep(
    parts: readonly Float32Array[],
    scales: readonly number[],
    learningRate: number,
    momentum: number,
  ): void;
  lossAndGradients(
    weights: Float32Array | null,
    x: Float32Array,
    labels: Int32Array,
    n: number,
    grads: Float32Array,
  ): number;
  logits(weights: Float32Array | null, x: Float32Array, n: number): Float32Array;
  dispose(): void;
}

/**
 * The Net's training step with the native addon. Throws when the addon is
 * unavailable (use {@link createNetStep} to fall back to wasm).
 */
export class NativeNetStep implements NetStepLike {
  readonly backendName = "native";
  timings: NetStepTimings | undefined;
  private readonly kernels: NativeNetKernels;
  private resident: { weights: Float32Array; momentum: Float32Array } | undefined;

  constructor() {
    const kernels = nativeNetKernels();
    if (!kernels) {
      throw new Error(
        `NativeNetStep: the native addon is unavailable: ${nativeUnavailableReason()}`,
      );
    }
    this.kernels = kernels;
  }

  /** Keeps a copy of `flat` as the resident weights, with a zero momentum buffer. */
  loadWeights(flat: Float32Array): void {
    if (flat.length !== PARAM_COUNT) {
      throw new RangeError(`NetStep: weights must have ${PARAM_COUNT} values, got ${flat.length}`);
    }
    this.resident = { weights: Float32Array.from(flat), momentum: new Float32Array(PARAM_COUNT) };
  }

  /** Copies the resident weights into `out` (length {@link PARAM_COUNT}). */
  readWeights(out: Float32Array): void {
    if (out.length !== PARAM_COUNT) {
      throw new RangeError(`NetStep: out must have ${PARAM_COUNT} values, got ${out.length}`);
    }
    out.set(this.residentState().weights);
  }

  /** PyTorch's SGD-momentum step on the resident weights (float32): g = Σⱼ scaleⱼ·partsⱼ; a ← m·a + g; w ← w − lr·a. */
  momentumStep(
    parts: readonly Float32Array[],
    scales: readonly number[],
    learningRate: number,
    momentum: number,
  ): void {
    const resident = this.residentState();
    if (
      parts.length === 0 ||
      parts.length !== scales.length ||
      parts.some((g) => g.length < PARAM_COUNT)
    ) {
      throw new RangeError(
        `NetStep: momentumStep needs one scale per part of ${PARAM_COUNT} values`,
      );
    }
    this.kernels.sgdStep(
      resident.weights,
      resident.momentum,
      parts as Float32Array[],
      scales as number[],
      learningRate,
      momentum,
    );
  }

  /** Mean loss of the first `n` images and every parameter's gradient into `grads` (as {@link NetStep.lossAndGradients}). */
  lossAndGradients(
    weights: Float32Array | null,
    x: Float32Array,
    labels: Int32Array,
    n: number,
    grads: Float32Array,
  ): number {
    if (grads.length < PARAM_COUNT) {
      throw new RangeError(`NetStep: grads must have room for ${PARAM_COUNT} values`);
    }
    if (labels.length < n)
      throw new RangeError(`NetStep: ${n} labels needed, got ${labels.length}`);
    const params = this.params(weights, x, n);
    for (let i = 0; i < n; i++) {
      const label = labels[i] as number;
      if (!(label >= 0 && label < NET_NUM_CLASSES))
        throw new RangeError(`NetStep: label ${label} outside 0..${NET_NUM_CLASSES - 1}`);
    }
    return this.kernels.trainStep(params, x, labels, n, grads);
  }

  /** Logits [n, 10] of the first `n` images of `x`. */
  logits(weights: Float32Array | null, x: Float32Array, n: number): Float32Array {
    const params = this.params(weights, x, n);
    const out = new Float32Array(n * NET_NUM_CLASSES);
    this.kernels.forward(params, x, n, out);
    return out;
  }

  /** Drops the resident weights and momentum. */
  dispose(): void {
    this.resident = undefined;
  }

  private residentState(): { weights: Float32Array; momentum: Float32Array } {
    if (!this.resident) {
      throw new Error("NetStep: no resident weights: call loadWeights() first or pass weights");
    }
    return this.resident;
  }

  private params(weights: Float32Array | null, x: Float32Array, n: number): Float32Array {
    if (weights && weights.length !== PARAM_COUNT) {
      throw new RangeError(
        `NetStep: weights must have ${PARAM_COUNT} values, got ${weights.length}`,
      );
    }
    const [h, w, c] = NET_INPUT_SHAPE;
    if (!(Number.isInteger(n) && n > 0) || x.length < n * h * w * c) {
      throw new RangeError(`NetStep: x must hold ${n} NHWC images of [${NET_INPUT_SHAPE}]`);
    }
    return weights ?? this.residentState().weights;
  }
}

/**
 * The Net's training step for this thread: {@link NativeNetStep} when the
 * addon is available (and not disabled by `FLWR_ML_NATIVE=0`), else the
 * wasm/cpu {@link NetStep} (which needs {@link netStepSupported}).
 */
export function createNetStep(): NetStepLike {
  return nativeNetKernels() ? new NativeNetStep() : new NetStep();
}

/**
 * Summed cross-entropy and correct predictions of `n` examples' logits
 * [n, 10] (arg-max: the first maximum, as `tf.argMax`).
 */
export function scoreLogits(
  logits: Float32Array,
  labels: Int32Array,
  n: number,
): { lossSum: number; correct: number } {
  const k = NET_NUM_CLASSES;
  let lossSum = 0;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const base = i * k;
    let max = Number.NEGATIVE_INFINITY;
    let arg = 0;
    for (let j = 0; j < k; j++) {
      const v = logits[base + j] as number;
      if (v > max) {
        max = v;
        arg = j;
      }
    }
    let sum = 0;
    for (let j = 0; j < k; j++) sum += Math.exp((logits[base + j] as number) - max);
    const label = labels[i] as number;
    lossSum += Math.log(sum) + max - (logits[base + label] as number);
    if (arg === label) correct++;
  }
  return { lossSum, correct };
}

/** The native Net training step (see src/net_step.c). Flat vectors use flwr-ml's parameter layout. */
export interface NativeNetKernels {
  /** Values in the flat parameter vector (62,006). */
  readonly paramCount: number;
  /**
   * Mean softmax cross-entropy of the first `n` NHWC images of `x` against
   * `labels`, every parameter's gradient written to `grads`. Returns the loss.
   */
  trainStep(
    params: Float32Array,
    x: Float32Array,
    labels: Int32Array,
    n: number,
    grads: Float32Array,
  ): number;
  /** Logits [n, 10] of the first `n` images of `x`, written to `logits`. */
  forward(params: Float32Array, x: Float32Array, n: number, logits: Float32Array): void;
  /** PyTorch's SGD-momentum step in float32: g = Σ scaleⱼ·partⱼ; a ← m·a + g; w ← w − lr·a. */
  sgdStep(
    weights: Float32Array,
    momentum: Float32Array,
    parts: readonly Float32Array[],
    scales: readonly number[],
    learningRate: number,
    momentumFactor: number,
  ): void;
  /**
   * trainStep, then every intermediate copied to `out` (per-kernel tests):
   * y1 [n][6][784], q1 [n][6][196], y2 [n][16][100], feat [n][400], h1 [n][120],
   * h2 [n][84], z3 [n][10], d3 [n][10], dh2 [n][84], dh1 [n][120], dfeat [n][400],
   * then of the last image dz2 [16][100], dq1 [6][196], dz1 [6][784].
   */
  debugStep(
    params: Float32Array,
    x: Float32Array,
    labels: Int32Array,
    n: number,
    grads: Float32Array,
    out: Float32Array,
  ): number;
  /** Bytes of this thread's scratch buffer (freed with the thread's environment). */
  scratchBytes(): number;
}

/** The addon, or null when disabled (FLWR_ML_NATIVE=0) or not built. */
export function load(): NativeNetKernels | null;
/** Why {@link load} returned null. */
export function loadError(): string | undefined;
/** Where the compiled addon is expected. */
export const addonPath: string;

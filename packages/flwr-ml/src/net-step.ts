/**
 * One training step of the {@link Net} (loss and every parameter's gradient)
 * computed by calling the backend's kernels directly: no tfjs engine, no
 * gradient tape, no variables, no Identity/Reshape/Cast kernels and no
 * engine-side tensor bookkeeping. Gradients go to a flat float32 vector in
 * the layout of `parallel/param-layout.ts` (tfjs layouts, `state_dict` order),
 * which is what the worker threads' shared memory uses; weights come from such
 * a vector or stay resident in the backend between steps together with the
 * momentum buffer ({@link NetStep.loadWeights}, {@link NetStep.momentumStep}).
 *
 * The math is that of the autodiff path through `layers.ts` — FusedConv2D +
 * MaxPool forward, FlwrPoolReluBiasGrad, Conv2DBackpropInput and
 * Conv2DBackpropFilter (as a Conv2D) backward — with the dense layers run on
 * transposed activations (W as the streamed left operand of BatchMatMul, bias
 * and ReLU applied in place), so the result equals it up to float rounding.
 * Only for the `wasm` and `cpu` backends with this package's kernels
 * registered (see {@link netStepSupported}).
 */

import { BackendAccess } from "./kernels/backend-access.js";
import { POOL_RELU_BIAS_GRAD } from "./kernels/pool-relu-bias-grad.js";
import { softmaxCrossEntropyInto } from "./kernels/softmax-cross-entropy.js";
import { NET_INPUT_SHAPE, NET_NUM_CLASSES } from "./net.js";
import { PARAM_COUNT, PARAM_SLOTS } from "./parallel/param-layout.js";
import * as tf from "./tf.js";

/** Offsets of the parameters in the flat vector, by layer. */
const OFF = Object.fromEntries(PARAM_SLOTS.map((s) => [s.name, s.offset])) as Record<
  (typeof PARAM_SLOTS)[number]["name"],
  number
>;

const CONV_VALID = {
  strides: [1, 1],
  pad: "valid",
  dataFormat: "NHWC",
  dilations: [1, 1],
  dimRoundingMode: undefined,
} as const;

/** Kernels the step calls, registered by this package or the backend. */
const REQUIRED = [
  "FusedConv2D",
  tf.MaxPool,
  tf.BatchMatMul,
  POOL_RELU_BIAS_GRAD,
  tf.Conv2D,
  tf.Transpose,
  tf.Multiply,
  tf.Add,
  tf.Sub,
];

/**
 * Whether {@link NetStep} can run on the current backend: `wasm` or `cpu`
 * with this package's kernels registered (never on tfjs-node, whose own
 * kernels are multi-threaded and fast through the engine).
 */
export function netStepSupported(backendName: string = tf.getBackend()): boolean {
  if (backendName !== "wasm" && backendName !== "cpu") return false;
  return REQUIRED.every((k) => tf.getKernel(k, backendName) !== undefined);
}

/** A tensor view sharing another's data with a different shape (a free reshape). */
function view(t: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  return { dataId: t.dataId, shape, dtype: t.dtype };
}

/** Per-phase timings (ms), accumulated when {@link NetStep.timings} is set. */
export type NetStepTimings = Record<string, number>;

/**
 * The Net's training step on one backend. Create once per thread (after the
 * backend is initialised) and reuse.
 */
export class NetStep {
  private readonly access: BackendAccess;
  private readonly backend: tf.KernelBackend;
  /** Intermediates of the current call, freed at its end. */
  private temps: tf.TensorInfo[] = [];
  /** Weights and momentum kept in the backend between steps (see {@link NetStep.loadWeights}). */
  private resident: { weights: tf.TensorInfo; momentum: tf.TensorInfo } | undefined;
  /** When set, each phase's time is added to it (profiling). */
  timings: NetStepTimings | undefined;
  private last = 0;

  /** @param backendName - `wasm` or `cpu`; default: the current backend. */
  constructor(readonly backendName: string = tf.getBackend()) {
    if (!netStepSupported(backendName)) {
      throw new Error(
        `NetStep needs the wasm or cpu backend with flwr-ml's kernels registered (got '${backendName}'): call initBackend() first`,
      );
    }
    this.backend = tf.findBackend(backendName) as tf.KernelBackend;
    this.access = new BackendAccess(this.backend, backendName);
  }

  private mark(phase: string): void {
    if (!this.timings) return;
    const now = performance.now();
    this.timings[phase] = (this.timings[phase] ?? 0) + (now - this.last);
    this.last = now;
  }

  /** Runs the kernel registered under `name` (this package's where it replaced one). */
  private run(name: string, inputs: tf.NamedTensorInfoMap, attrs: object = {}): tf.TensorInfo[] {
    const config = tf.getKernel(name, this.backendName);
    if (!config) throw new Error(`NetStep: kernel ${name} is not registered`);
    const out = config.kernelFunc({
      inputs,
      attrs: attrs as tf.NamedAttrMap,
      backend: this.backend,
    });
    const list = Array.isArray(out) ? out : [out];
    this.temps.push(...list);
    return list;
  }

  private run1(name: string, inputs: tf.NamedTensorInfoMap, attrs: object = {}): tf.TensorInfo {
    return this.run(name, inputs, attrs)[0] as tf.TensorInfo;
  }

  /** A new float32 tensor holding a copy of `values`. */
  private upload(shape: number[], values: Float32Array): tf.TensorInfo {
    const t = this.access.upload(shape, values);
    this.temps.push(t);
    return t;
  }

  /** One parameter as a tensor: copied from `w`, or sliced from the resident weights when `w` is null. */
  private weight(
    name: (typeof PARAM_SLOTS)[number]["name"],
    w: Float32Array | null,
  ): tf.TensorInfo {
    const slot = PARAM_SLOTS.find((s) => s.name === name) as (typeof PARAM_SLOTS)[number];
    if (w) return this.upload(slot.shape, w.subarray(slot.offset, slot.offset + slot.size));
    const resident = this.residentState();
    const part = this.access.slice(resident.weights, slot.offset, slot.shape);
    this.temps.push(part);
    return part;
  }

  private residentState(): { weights: tf.TensorInfo; momentum: tf.TensorInfo } {
    if (!this.resident) {
      throw new Error("NetStep: no resident weights: call loadWeights() first or pass weights");
    }
    return this.resident;
  }

  /**
   * Keeps a copy of `flat` (length {@link PARAM_COUNT}) in the backend as the
   * resident weights, with a zero momentum buffer: {@link lossAndGradients}
   * with `weights` null uses them and {@link momentumStep} updates them
   * without a pass in JavaScript.
   */
  loadWeights(flat: Float32Array): void {
    if (flat.length !== PARAM_COUNT) {
      throw new RangeError(`NetStep: weights must have ${PARAM_COUNT} values, got ${flat.length}`);
    }
    this.disposeResident();
    const weights = this.access.upload([PARAM_COUNT], flat);
    const momentum = this.access.zeros([PARAM_COUNT]).info;
    this.resident = { weights, momentum };
  }

  /** Copies the resident weights into `out` (length {@link PARAM_COUNT}). */
  readWeights(out: Float32Array): void {
    if (out.length !== PARAM_COUNT) {
      throw new RangeError(`NetStep: out must have ${PARAM_COUNT} values, got ${out.length}`);
    }
    out.set(this.read(this.residentState().weights));
  }

  /**
   * PyTorch's SGD-momentum step on the resident weights, in float32 with the
   * backend's element-wise kernels (as torch.optim.SGD does it): g = Σⱼ
   * scaleⱼ·partsⱼ; a ← m·a + g; w ← w − lr·a.
   */
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
    const scalar = (v: number) => this.upload([], Float32Array.of(v));
    try {
      let g: tf.TensorInfo | undefined;
      for (const [j, part] of parts.entries()) {
        const scale = scales[j] as number;
        let gj = this.upload([PARAM_COUNT], part.subarray(0, PARAM_COUNT));
        if (scale !== 1) gj = this.run1(tf.Multiply, { a: gj, b: scalar(scale) });
        g = g ? this.run1(tf.Add, { a: g, b: gj }) : gj;
      }
      const scaled = this.run1(tf.Multiply, { a: resident.momentum, b: scalar(momentum) });
      const nextMomentum = this.run(tf.Add, {
        a: scaled,
        b: g as tf.TensorInfo,
      })[0] as tf.TensorInfo;
      const delta = this.run1(tf.Multiply, { a: nextMomentum, b: scalar(learningRate) });
      const nextWeights = this.run1(tf.Sub, { a: resident.weights, b: delta });
      // Keep the two results; everything else of this call is freed below.
      this.temps = this.temps.filter((t) => t !== nextMomentum && t !== nextWeights);
      this.disposeResident();
      this.resident = { weights: nextWeights, momentum: nextMomentum };
    } finally {
      this.free();
    }
  }

  private disposeResident(): void {
    if (!this.resident) return;
    this.access.dispose(this.resident.weights);
    this.access.dispose(this.resident.momentum);
    this.resident = undefined;
  }

  /** Frees the resident weights and momentum (the step stays usable with explicit weights). */
  dispose(): void {
    this.disposeResident();
  }

  private read(t: tf.TensorInfo): Float32Array {
    return this.access.read(t);
  }

  private free(): void {
    for (const t of this.temps) this.access.dispose(t);
    this.temps = [];
  }

  /** The forward pass: logits [n, 10] and the activations the backward pass needs. */
  private forward(weights: Float32Array | null, x: Float32Array, n: number) {
    if (weights && weights.length !== PARAM_COUNT) {
      throw new RangeError(
        `NetStep: weights must have ${PARAM_COUNT} values, got ${weights?.length}`,
      );
    }
    const [h, w, c] = NET_INPUT_SHAPE;
    if (!(n > 0) || x.length < n * h * w * c) {
      throw new RangeError(`NetStep: x must hold ${n} NHWC images of [${NET_INPUT_SHAPE}]`);
    }
    const xs = this.upload([n, h, w, c], x.subarray(0, n * h * w * c));
    const w1 = this.weight("conv1.weight", weights);
    const w2 = this.weight("conv2.weight", weights);
    const f1 = this.weight("fc1.weight", weights);
    const f2 = this.weight("fc2.weight", weights);
    const f3 = this.weight("fc3.weight", weights);
    const b1 = this.weight("conv1.bias", weights);
    const b2 = this.weight("conv2.bias", weights);
    const c3 = this.weight("fc3.bias", weights);
    this.mark("upload");
    const y1 = this.run1(
      "FusedConv2D",
      { x: xs, filter: w1, bias: b1 },
      { ...CONV_VALID, activation: "relu" },
    );
    this.mark("conv1");
    const pool = { filterSize: [2, 2], strides: [2, 2], pad: "valid", dimRoundingMode: undefined };
    const p1 = this.run1(tf.MaxPool, { x: y1 }, pool);
    this.mark("pool1");
    const y2 = this.run1(
      "FusedConv2D",
      { x: p1, filter: w2, bias: b2 },
      { ...CONV_VALID, activation: "relu" },
    );
    this.mark("conv2");
    const p2 = this.run1(tf.MaxPool, { x: y2 }, pool);
    this.mark("pool2");
    // Dense layers on transposed activations ([features, n]): W as the left
    // operand is streamed, only the small activation gets packed (XNNPACK
    // packs a product's right operand on every call, and the weights change
    // every step: packing fc1's 48k weights cost more than its product).
    const flatT = this.transpose(view(p2, [n, 400]));
    const h1T = this.denseT(f1, flatT, n, weights, "fc1.bias", true);
    const h2T = this.denseT(f2, h1T, n, weights, "fc2.bias", true);
    // Logits [n, 10] = h2·W3 + b3 (a small product: the registered kernel's loop).
    const logits = view(
      this.run1(
        tf.BatchMatMul,
        { a: view(h2T, [1, 84, n]), b: view(f3, [1, 84, 10]) },
        { transposeA: true, transposeB: false },
      ),
      [n, NET_NUM_CLASSES],
    );
    addRowBias(this.read(logits), this.read(c3), n, NET_NUM_CLASSES);
    this.mark("dense");
    return { xs, w2, f1, f2, f3, y1, p1, y2, flatT, h1T, h2T, logits };
  }

  /**
   * Mean softmax cross-entropy of the first `n` images of `x` (NHWC,
   * normalised) against `labels`, and its gradient with respect to every
   * parameter, written to `grads` (flat, length {@link PARAM_COUNT}).
   * Returns the loss. `weights` null: the resident weights.
   */
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
    this.last = performance.now();
    try {
      const f = this.forward(weights, x, n);
      const k = NET_NUM_CLASSES;
      // Loss and dLogits ((softmax − one-hot)/n).
      const dLogits = this.access.zeros([n, k]);
      this.temps.push(dLogits.info);
      const loss =
        softmaxCrossEntropyInto(this.read(f.logits), labels, n, k, this.read(dLogits.info)) / n;
      this.mark("loss");
      // Dense layers, last to first, on transposed activations xᵀ [in, n]:
      // dW = xᵀ·dz [in, out] and dxᵀ = W·dzᵀ [in, n], W streamed, the small
      // dz/dzᵀ packed; db = Σ dz. dz of fc3 is dLogits.
      let dz = dLogits.info;
      const layers = [
        { w: f.f3, xT: f.h2T, wOff: OFF["fc3.weight"], bOff: OFF["fc3.bias"], relu: true },
        { w: f.f2, xT: f.h1T, wOff: OFF["fc2.weight"], bOff: OFF["fc2.bias"], relu: true },
        { w: f.f1, xT: f.flatT, wOff: OFF["fc1.weight"], bOff: OFF["fc1.bias"], relu: false },
      ];
      let dxT: tf.TensorInfo | undefined;
      for (const layer of layers) {
        const [inputs, outputs] = layer.w.shape as [number, number];
        const dw = this.run1(
          tf.BatchMatMul,
          { a: view(layer.xT, [1, inputs, n]), b: view(dz, [1, n, outputs]) },
          { transposeA: false, transposeB: false },
        );
        grads.set(this.read(dw), layer.wOff);
        columnSums(this.read(dz), n, outputs, grads, layer.bOff);
        const dzT = this.transpose(view(dz, [n, outputs]));
        dxT = view(
          this.run1(
            tf.BatchMatMul,
            { a: view(layer.w, [1, inputs, outputs]), b: view(dzT, [1, outputs, n]) },
            { transposeA: false, transposeB: false },
          ),
          [inputs, n],
        );
        if (layer.relu) {
          // Through the ReLU that produced x: dzᵀ of the layer below.
          reluMaskInPlace(this.read(dxT), this.read(layer.xT), inputs * n);
          dz = this.transpose(dxT);
        }
      }
      // dp2 [n, 400] (NHWC flatten) from dflatᵀ [400, n].
      dz = this.transpose(dxT as tf.TensorInfo);
      this.mark("dense-backward");
      // dz is now the gradient of the flattened pool2 output [n, 400].
      const dp2 = view(dz, [n, 5, 5, 16]);
      const [dz2, db2] = this.run(POOL_RELU_BIAS_GRAD, { y: f.y2, dy: dp2 }) as [
        tf.TensorInfo,
        tf.TensorInfo,
      ];
      grads.set(this.read(db2), OFF["conv2.bias"]);
      this.mark("pool2-backward");
      // conv2's input gradient: the full convolution of dz2 (padded by 4)
      // with W2 rotated 180° and its in/out channels swapped, the rotated
      // filter [5, 5, 16, 6] built here (as the Conv2DBackpropInput kernel does
      // with two more kernel calls).
      const w2 = weights
        ? weights.subarray(OFF["conv2.weight"], OFF["conv2.weight"] + 2400)
        : this.read(this.residentState().weights).subarray(
            OFF["conv2.weight"],
            OFF["conv2.weight"] + 2400,
          );
      const rotated = new Float32Array(2400);
      for (let i = 0; i < 5; i++)
        for (let j = 0; j < 5; j++)
          for (let c = 0; c < 6; c++)
            for (let o = 0; o < 16; o++)
              rotated[(((4 - i) * 5 + (4 - j)) * 16 + o) * 6 + c] = w2[
                ((i * 5 + j) * 6 + c) * 16 + o
              ] as number;
      const pad4 = [
        [0, 0],
        [4, 4],
        [4, 4],
        [0, 0],
      ];
      const dp1 = this.run1(
        tf.Conv2D,
        { x: dz2, filter: this.upload([5, 5, 16, 6], rotated) },
        { ...CONV_VALID, pad: pad4 },
      );
      this.mark("conv2-dx");
      // conv2's filter gradient: p1 with the batch as channels [6, 14, 14, n]
      // convolved with dz2 as the filter [10, 10, n, 16] gives dW as [c, i, j, o].
      const p1T = this.run1(tf.Transpose, { x: f.p1 }, { perm: [3, 1, 2, 0] });
      const dz2T = this.run1(tf.Transpose, { x: dz2 }, { perm: [1, 2, 0, 3] });
      const dw2 = this.read(this.run1(tf.Conv2D, { x: p1T, filter: dz2T }, CONV_VALID));
      const base2 = OFF["conv2.weight"];
      for (let c = 0, from = 0; c < 6; c++)
        for (let i = 0; i < 5; i++)
          for (let j = 0; j < 5; j++)
            for (let o = 0; o < 16; o++, from++)
              grads[base2 + ((i * 5 + j) * 6 + c) * 16 + o] = dw2[from] as number;
      this.mark("conv2-dw");
      // dz1 as [28, 28, n, 6]: the filter of the filter-gradient convolution below.
      const [dz1, db1] = this.run(
        POOL_RELU_BIAS_GRAD,
        { y: f.y1, dy: dp1 },
        { dzLayout: "HWNC" },
      ) as [tf.TensorInfo, tf.TensorInfo];
      grads.set(this.read(db1), OFF["conv1.bias"]);
      this.mark("pool1-backward");
      // conv1's filter gradient: x with the batch as channels [3, 32, 32, n]
      // convolved with dz1 as the filter gives [3, 5, 5, 6] = dW as [c, i, j, o].
      const xT = this.run1(tf.Transpose, { x: f.xs }, { perm: [3, 1, 2, 0] });
      const dwT = this.run1(tf.Conv2D, { x: xT, filter: dz1 }, CONV_VALID);
      const dw1 = this.read(dwT);
      const base = OFF["conv1.weight"];
      for (let c = 0, from = 0; c < 3; c++)
        for (let i = 0; i < 5; i++)
          for (let j = 0; j < 5; j++)
            for (let o = 0; o < 6; o++, from++)
              grads[base + ((i * 5 + j) * 3 + c) * 6 + o] = dw1[from] as number;
      this.mark("conv1-dw");
      return loss;
    } finally {
      this.free();
      this.mark("free");
    }
  }

  /** Logits [n, 10] of the first `n` images of `x` (NHWC, normalised), copied out. */
  logits(weights: Float32Array | null, x: Float32Array, n: number): Float32Array {
    try {
      return this.read(this.forward(weights, x, n).logits).slice(0, n * NET_NUM_CLASSES);
    } finally {
      this.free();
    }
  }

  /** mᵀ of a 2-D tensor, in JavaScript (the dense layers' operands are small). */
  private transpose(m: tf.TensorInfo): tf.TensorInfo {
    const [rows, cols] = m.shape as [number, number];
    const out = this.access.zeros([cols, rows]);
    this.temps.push(out.info);
    const src = this.read(m);
    const dst = out.data;
    for (let i = 0; i < rows; i++) {
      const base = i * cols;
      for (let j = 0; j < cols; j++) dst[j * rows + i] = src[base + j] as number;
    }
    return out.info;
  }

  /**
   * ReLU?(W·xᵀ + b) on transposed activations: W [in, out] (tfjs layout)
   * transposed to Wᵀ [out, in] (a streamed left operand), xᵀ [in, n] packed;
   * the bias (per row) and ReLU applied in place. Returns [out, n].
   */
  private denseT(
    w: tf.TensorInfo,
    xT: tf.TensorInfo,
    n: number,
    weights: Float32Array | null,
    bias: "fc1.bias" | "fc2.bias",
    relu: boolean,
  ): tf.TensorInfo {
    const [inputs, outputs] = w.shape as [number, number];
    const wT = this.run1(tf.Transpose, { x: w }, { perm: [1, 0] });
    const zT = view(
      this.run1(
        tf.BatchMatMul,
        { a: view(wT, [1, outputs, inputs]), b: view(xT, [1, inputs, n]) },
        { transposeA: false, transposeB: false },
      ),
      [outputs, n],
    );
    const slot = PARAM_SLOTS.find((p) => p.name === bias) as (typeof PARAM_SLOTS)[number];
    const b = weights
      ? weights.subarray(slot.offset, slot.offset + slot.size)
      : this.read(this.residentState().weights).subarray(slot.offset, slot.offset + slot.size);
    const z = this.read(zT);
    for (let r = 0; r < outputs; r++) {
      const br = b[r] as number;
      for (let j = r * n, end = j + n; j < end; j++) {
        const v = (z[j] as number) + br;
        z[j] = relu && !(v > 0) ? 0 : v;
      }
    }
    return zT;
  }
}

/** m[i, j] += b[j] for m [rows, cols]. */
function addRowBias(m: Float32Array, b: Float32Array, rows: number, cols: number): void {
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) m[i * cols + j] = (m[i * cols + j] as number) + (b[j] as number);
}

/** out[off + j] = Σᵢ m[i, j] for m [rows, cols]. */
function columnSums(
  m: Float32Array,
  rows: number,
  cols: number,
  out: Float32Array,
  off: number,
): void {
  for (let j = 0; j < cols; j++) {
    let s = 0;
    for (let i = 0; i < rows; i++) s += m[i * cols + j] as number;
    out[off + j] = s;
  }
}

/** d[i] = 0 where y[i] ≤ 0 (ReLU's derivative, 0 at 0 as tf.step). */
function reluMaskInPlace(d: Float32Array, y: Float32Array, size: number): void {
  for (let i = 0; i < size; i++) if (!((y[i] as number) > 0)) d[i] = 0;
}

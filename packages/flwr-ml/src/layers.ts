/**
 * The Net's layers as single fused kernels with hand-written gradients.
 *
 * tfjs only fuses conv/matmul + bias + activation when no gradient is being
 * recorded, so a training step would launch three kernels (and keep three
 * activations) per layer. These custom-gradient ops run the fused kernel in
 * training too and compute exactly the gradients of bias + ReLU.
 */

import { POOL_RELU_BIAS_GRAD } from "./kernels/pool-relu-bias-grad.js";
import * as tf from "./tf.js";

type Saver = (tensors: tf.Tensor[]) => void;

function reluGrad(dy: tf.Tensor, y: tf.Tensor): tf.Tensor {
  return tf.mul(dy, tf.step(y));
}

/** The argument type of tf.customGrad (not exported by name). */
type CustomGradFn = Parameters<typeof tf.customGrad>[0];

function fusedConvForward(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D): tf.Tensor4D {
  return tf
    .engine()
    .runKernel(
      "FusedConv2D",
      { x, filter: w, bias: b },
      { strides: [1, 1], pad: "valid", dataFormat: "NHWC", dilations: [1, 1], activation: "relu" },
    ) as tf.Tensor4D;
}

const CONV_ATTRS = { strides: [1, 1], pad: "valid", dataFormat: "NHWC" };

function convWeightGrads(x: tf.Tensor4D, w: tf.Tensor4D, dz: tf.Tensor): tf.Tensor[] {
  const dw = tf
    .engine()
    .runKernel(
      "Conv2DBackpropFilter",
      { x, dy: dz },
      { ...CONV_ATTRS, filterShape: w.shape },
    ) as tf.Tensor;
  return [dw, tf.sum(dz, [0, 1, 2])];
}

const convWithInputGrad = tf.customGrad(((
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  b: tf.Tensor1D,
  save: Saver,
) => {
  const y = fusedConvForward(x, w, b);
  save([x, w, y]);
  return {
    value: y,
    gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
      const [sx, sw, sy] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
      const dz = reluGrad(dy, sy);
      const dx = tf
        .engine()
        .runKernel(
          "Conv2DBackpropInput",
          { dy: dz, filter: sw },
          { ...CONV_ATTRS, inputShape: sx.shape },
        ) as tf.Tensor;
      return [dx, ...convWeightGrads(sx, sw, dz)];
    },
  };
}) as unknown as CustomGradFn) as (x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D) => tf.Tensor4D;

/**
 * ReLU(conv2d(x, w) + b): stride 1, valid padding, NHWC.
 * Gradients: dx = Conv2DBackpropInput, dw = Conv2DBackpropFilter, db = Σ.
 * With `inputGrad: false` (a first layer fed with data) x is a constant and
 * its gradient, a full convolution, is not computed at all.
 */
export function conv2dBiasRelu(
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  b: tf.Tensor1D,
  inputGrad = true,
): tf.Tensor4D {
  if (inputGrad) return convWithInputGrad(x, w, b);
  const op = tf.customGrad(((cw: tf.Tensor4D, cb: tf.Tensor1D, save: Saver) => {
    const y = fusedConvForward(x, cw, cb);
    // x is saved too: a tensor created inside the differentiated function
    // is otherwise disposed before the backward pass runs.
    save([cw, y, x]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
        const [sw, sy, sx] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
        return convWeightGrads(sx, sw, reluGrad(dy, sy));
      },
    };
  }) as unknown as CustomGradFn) as (w: tf.Tensor4D, b: tf.Tensor1D) => tf.Tensor4D;
  return op(w, b);
}

/** dz and db from the pooled gradient through the fused kernel. */
function poolReluBiasGrad(y: tf.Tensor4D, dp: tf.Tensor4D): [tf.Tensor4D, tf.Tensor1D] {
  return tf.engine().runKernel(POOL_RELU_BIAS_GRAD, { y, dy: dp }, {}) as unknown as [
    tf.Tensor4D,
    tf.Tensor1D,
  ];
}

function dwOf(x: tf.Tensor4D, w: tf.Tensor4D, dz: tf.Tensor4D): tf.Tensor {
  return tf
    .engine()
    .runKernel(
      "Conv2DBackpropFilter",
      { x, dy: dz },
      { ...CONV_ATTRS, filterShape: w.shape },
    ) as tf.Tensor;
}

const convPoolWithInputGrad = tf.customGrad(((
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  b: tf.Tensor1D,
  save: Saver,
) => {
  const y = fusedConvForward(x, w, b);
  save([x, w, y]);
  return {
    value: tf.maxPool(y, 2, 2, "valid"),
    gradFunc: (dp: tf.Tensor4D, saved: tf.Tensor[]) => {
      const [sx, sw, sy] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
      const [dz, db] = poolReluBiasGrad(sy, dp);
      const dx = tf
        .engine()
        .runKernel(
          "Conv2DBackpropInput",
          { dy: dz, filter: sw },
          { ...CONV_ATTRS, inputShape: sx.shape },
        ) as tf.Tensor;
      return [dx, dwOf(sx, sw, dz), db];
    },
  };
}) as unknown as CustomGradFn) as (x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D) => tf.Tensor4D;

/**
 * maxPool₂ₓ₂(ReLU(conv2d(x, w) + b)) as one op whose backward pass runs
 * `FlwrPoolReluBiasGrad` (pool, ReLU and bias gradients in one kernel); the
 * composition of {@link conv2dBiasRelu} and `tf.maxPool` where that kernel is
 * not registered. `inputGrad: false` as for {@link conv2dBiasRelu}.
 */
export function conv2dBiasReluPool(
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  b: tf.Tensor1D,
  inputGrad = true,
): tf.Tensor4D {
  if (tf.getKernel(POOL_RELU_BIAS_GRAD, tf.getBackend()) === undefined) {
    return tf.maxPool(conv2dBiasRelu(x, w, b, inputGrad), 2, 2, "valid");
  }
  if (inputGrad) return convPoolWithInputGrad(x, w, b);
  const op = tf.customGrad(((cw: tf.Tensor4D, cb: tf.Tensor1D, save: Saver) => {
    const y = fusedConvForward(x, cw, cb);
    save([cw, y, x]);
    return {
      value: tf.maxPool(y, 2, 2, "valid"),
      gradFunc: (dp: tf.Tensor4D, saved: tf.Tensor[]) => {
        const [sw, sy, sx] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
        const [dz, db] = poolReluBiasGrad(sy, dp);
        return [dwOf(sx, sw, dz), db];
      },
    };
  }) as unknown as CustomGradFn) as (w: tf.Tensor4D, b: tf.Tensor1D) => tf.Tensor4D;
  return op(w, b);
}

/**
 * dz·wᵀ for dz [n, out], w [in, out]. XNNPACK packs a product's right operand
 * on every call (the weights change every step), so when w is much larger
 * than dz this computes (w·dzᵀ)ᵀ instead: only the small dzᵀ gets packed
 * (fc1 at batch 16: 0.50 → 0.16 ms).
 */
function inputGrad(dz: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  const [n, out] = dz.shape;
  const [inputs] = w.shape;
  if (w.size > 4 * dz.size && n * inputs * out > 50_000) {
    return tf.transpose(tf.matMul(w, tf.transpose(dz))) as tf.Tensor2D;
  }
  return tf.matMul(dz, w, false, true);
}

function makeDense(relu: boolean) {
  return tf.customGrad(((x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, save: Saver) => {
    // The kernel takes rank-3 operands (the public op reshapes too).
    const y3 = tf
      .engine()
      .runKernel(
        "_FusedMatMul",
        { a: tf.reshape(x, [1, ...x.shape]), b: tf.reshape(w, [1, ...w.shape]), bias: b },
        { transposeA: false, transposeB: false, activation: relu ? "relu" : "linear" },
      ) as tf.Tensor3D;
    const y = tf.reshape(y3, [x.shape[0], w.shape[1]]) as tf.Tensor2D;
    save([x, w, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
        const [sx, sw, sy] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
        const dz = (relu ? reluGrad(dy, sy) : dy) as tf.Tensor2D;
        return [inputGrad(dz, sw), tf.matMul(sx, dz, true, false), tf.sum(dz, 0)];
      },
    };
  }) as unknown as CustomGradFn) as (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D;
}

/** ReLU(x·w + b) for x [n, in], w [in, out]. */
export const denseRelu = makeDense(true);
/** x·w + b for x [n, in], w [in, out]. */
export const dense = makeDense(false);

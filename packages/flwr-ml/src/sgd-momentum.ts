/**
 * SGD with momentum as PyTorch's `torch.optim.SGD(momentum=m)` (dampening 0,
 * no Nesterov): a ← m·a + g; w ← w − lr·a. A `tf.Optimizer`, so
 * `optimizer.minimize` drives it; the update is one fused kernel per variable
 * where this package registered it (wasm, cpu), plain ops elsewhere.
 */
import * as tf from "./tf.js";

/** A tensor with its variable name (tfjs-core's NamedTensor, not re-exported by tfjs). */
export type NamedTensor = { name: string; tensor: tf.Tensor };

import { SGD_MOMENTUM_UPDATE } from "./kernels/sgd-momentum-update.js";

/** PyTorch-style SGD with momentum; dispose when done. */
export class SgdMomentumOptimizer extends tf.Optimizer {
  /** Name used by tfjs serialization. */
  static get className(): string {
    return "FlwrSgdMomentum";
  }

  private readonly accumulations = new Map<string, tf.Variable>();

  /**
   * @param learningRate - step size.
   * @param momentum - momentum factor in [0, 1).
   */
  constructor(
    readonly learningRate: number,
    readonly momentum: number,
  ) {
    super();
  }

  /** Applies one update from gradients keyed by variable name (or as a list). */
  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const list: NamedTensor[] = Array.isArray(variableGradients)
      ? variableGradients
      : Object.entries(variableGradients).map(([name, tensor]) => ({ name, tensor }));
    const fused = tf.getKernel(SGD_MOMENTUM_UPDATE, tf.getBackend()) !== undefined;
    for (const { name, tensor: gradient } of list) {
      const value = tf.engine().registeredVariables[name];
      if (!value || !gradient) continue;
      let acc = this.accumulations.get(name);
      if (!acc) {
        acc = tf.tidy(() => tf.variable(tf.zerosLike(value), false));
        this.accumulations.set(name, acc);
      }
      const accumulation = acc;
      if (fused) {
        const [newValue, newAcc] = tf
          .engine()
          .runKernel(
            SGD_MOMENTUM_UPDATE,
            { value, accumulation, gradient },
            { learningRate: this.learningRate, momentum: this.momentum },
          ) as tf.Tensor[];
        accumulation.assign(newAcc as tf.Tensor);
        value.assign(newValue as tf.Tensor);
        tf.dispose([newValue as tf.Tensor, newAcc as tf.Tensor]);
      } else {
        tf.tidy(() => {
          const next = tf.add(tf.mul(accumulation, this.momentum), gradient);
          accumulation.assign(next);
          value.assign(tf.sub(value, tf.mul(next, this.learningRate)));
        });
      }
    }
    this.incrementIterations();
  }

  /** Frees the momentum buffers. */
  override dispose(): void {
    for (const v of this.accumulations.values()) v.dispose();
    this.accumulations.clear();
  }

  /** Momentum buffers, for checkpointing. */
  override async getWeights(): Promise<NamedTensor[]> {
    return [...this.accumulations].map(([name, tensor]) => ({ name: `${name}/momentum`, tensor }));
  }

  /** Not supported: momentum buffers are rebuilt each round. */
  override async setWeights(): Promise<void> {
    throw new Error("SgdMomentumOptimizer does not restore weights");
  }

  /** Serializable configuration. */
  override getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, momentum: this.momentum };
  }
}

/**
 * PyTorch's SGD-momentum step over flat vectors, with the gradient given as a
 * weighted sum of parts (the chunks of a data-parallel step):
 * a ← m·a + Σⱼ scaleⱼ·gⱼ; w ← w − lr·a. In place, one pass.
 */
export function sgdMomentumFlatStep(
  weights: Float32Array,
  accumulation: Float32Array,
  parts: readonly Float32Array[],
  scales: readonly number[],
  learningRate: number,
  momentum: number,
): void {
  const size = weights.length;
  if (
    accumulation.length !== size ||
    parts.some((g) => g.length < size) ||
    parts.length !== scales.length
  ) {
    throw new RangeError("sgdMomentumFlatStep: weights, accumulation and gradients differ in size");
  }
  const lr = learningRate;
  if (parts.length === 1 || parts.length === 2) {
    const g0 = parts[0] as Float32Array;
    const s0 = scales[0] as number;
    const g1 = (parts[1] ?? g0) as Float32Array;
    const s1 = parts.length === 2 ? (scales[1] as number) : 0;
    for (let i = 0; i < size; i++) {
      const g = s0 * (g0[i] as number) + s1 * (g1[i] as number);
      const a = momentum * (accumulation[i] as number) + g;
      accumulation[i] = a;
      weights[i] = (weights[i] as number) - lr * a;
    }
    return;
  }
  for (let i = 0; i < size; i++) {
    let g = 0;
    for (let j = 0; j < parts.length; j++)
      g += (scales[j] as number) * ((parts[j] as Float32Array)[i] as number);
    const a = momentum * (accumulation[i] as number) + g;
    accumulation[i] = a;
    weights[i] = (weights[i] as number) - lr * a;
  }
}

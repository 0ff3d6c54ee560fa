/**
 * The seed's CIFAR-10 CNN (Flower's PyTorch `Net`) in TensorFlow.js:
 * conv 5×5 3→6 + ReLU, max-pool 2, conv 5×5 6→16 + ReLU, max-pool 2,
 * flatten, dense 400→120 + ReLU, 120→84 + ReLU, 84→10 (logits).
 *
 * Inputs are NHWC [n, 32, 32, 3]. Variables use tfjs layouts (conv filters
 * [kh, kw, in, out], dense kernels [in, out], fc1's rows in NHWC flatten order);
 * `weights.ts` converts to and from PyTorch's `state_dict` layouts.
 */

import { conv2dBiasReluPool, dense, denseRelu } from "./layers.js";
import * as tf from "./tf.js";

/** Input image height, width and channels of {@link Net}. */
export const NET_INPUT_SHAPE = [32, 32, 3] as const;
/** Number of classes {@link Net} predicts. */
export const NET_NUM_CLASSES = 10;

/** Parameter names in PyTorch `state_dict` order, with PyTorch shapes. */
export const NET_PARAMETERS = [
  ["conv1.weight", [6, 3, 5, 5]],
  ["conv1.bias", [6]],
  ["conv2.weight", [16, 6, 5, 5]],
  ["conv2.bias", [16]],
  ["fc1.weight", [120, 400]],
  ["fc1.bias", [120]],
  ["fc2.weight", [84, 120]],
  ["fc2.bias", [84]],
  ["fc3.weight", [10, 84]],
  ["fc3.bias", [10]],
] as const satisfies readonly (readonly [string, readonly number[]])[];

/** A PyTorch parameter name of {@link Net}. */
export type NetParameterName = (typeof NET_PARAMETERS)[number][0];

/** tfjs shapes of the variables, keyed by PyTorch name. */
const TF_SHAPES: Record<NetParameterName, number[]> = {
  "conv1.weight": [5, 5, 3, 6],
  "conv1.bias": [6],
  "conv2.weight": [5, 5, 6, 16],
  "conv2.bias": [16],
  "fc1.weight": [400, 120],
  "fc1.bias": [120],
  "fc2.weight": [120, 84],
  "fc2.bias": [84],
  "fc3.weight": [84, 10],
  "fc3.bias": [10],
};

/** Fan-in of each layer (PyTorch's default initialisation bound is 1/√fan_in). */
const FAN_IN: Record<string, number> = { conv1: 75, conv2: 150, fc1: 400, fc2: 120, fc3: 84 };

/** Options of {@link createNet}. */
export interface CreateNetOptions {
  /** Seed for the initial weights (default: random). */
  seed?: number;
}

/**
 * The CNN. Create with {@link createNet}; free with {@link Net.dispose}.
 */
export class Net {
  /** Trainable variables keyed by PyTorch parameter name (tfjs layouts). */
  readonly variables: ReadonlyMap<NetParameterName, tf.Variable>;

  /** @internal use {@link createNet}. */
  constructor(variables: Map<NetParameterName, tf.Variable>) {
    this.variables = variables;
  }

  /** The variables in `state_dict` order (for optimizers). */
  get trainableVariables(): tf.Variable[] {
    return NET_PARAMETERS.map(([name]) => this.variable(name));
  }

  /** One variable by PyTorch name. */
  variable(name: NetParameterName): tf.Variable {
    const v = this.variables.get(name);
    if (!v) throw new Error(`Net has no variable ${name}`);
    return v;
  }

  /**
   * Logits [n, 10] for NHWC images [n, 32, 32, 3] (normalised as the seed
   * does: (x/255 − 0.5)/0.5).
   */
  predict(x: tf.Tensor4D): tf.Tensor2D {
    const [, h, w, c] = x.shape;
    if (h !== NET_INPUT_SHAPE[0] || w !== NET_INPUT_SHAPE[1] || c !== NET_INPUT_SHAPE[2]) {
      throw new RangeError(`Net expects NHWC input [n, 32, 32, 3], got [${x.shape}]`);
    }
    return tf.tidy(() => {
      const v = (name: NetParameterName) => this.variable(name);
      // The input is data: no gradient for it.
      let y = conv2dBiasReluPool(
        x,
        v("conv1.weight") as tf.Tensor4D,
        v("conv1.bias") as tf.Tensor1D,
        false,
      );
      y = conv2dBiasReluPool(y, v("conv2.weight") as tf.Tensor4D, v("conv2.bias") as tf.Tensor1D);
      const flat = tf.reshape(y, [y.shape[0], 400]) as tf.Tensor2D;
      const d1 = denseRelu(flat, v("fc1.weight") as tf.Tensor2D, v("fc1.bias") as tf.Tensor1D);
      const d2 = denseRelu(d1, v("fc2.weight") as tf.Tensor2D, v("fc2.bias") as tf.Tensor1D);
      return dense(d2, v("fc3.weight") as tf.Tensor2D, v("fc3.bias") as tf.Tensor1D);
    }) as tf.Tensor2D;
  }

  /** Frees the variables. */
  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
  }
}

/** The tfjs shape of a parameter. */
export function tfShapeOf(name: NetParameterName): number[] {
  return TF_SHAPES[name];
}

let nextNetId = 0;

/**
 * A new {@link Net} initialised as PyTorch initialises `nn.Conv2d`/`nn.Linear`
 * by default: weights and biases uniform in ±1/√fan_in.
 */
export function createNet(options: CreateNetOptions = {}): Net {
  const seed = options.seed;
  const id = nextNetId++;
  const variables = new Map<NetParameterName, tf.Variable>();
  NET_PARAMETERS.forEach(([name], i) => {
    const layer = name.split(".")[0] as string;
    const bound = 1 / Math.sqrt(FAN_IN[layer] as number);
    const init = tf.randomUniform(
      TF_SHAPES[name],
      -bound,
      bound,
      "float32",
      seed === undefined ? undefined : seed + i,
    );
    variables.set(name, tf.variable(init, true, `flwr-net-${id}/${name}`));
    init.dispose();
  });
  return new Net(variables);
}

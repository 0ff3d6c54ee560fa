/**
 * {@link Net} parameters ↔ PyTorch `state_dict` names and layouts, so the
 * TypeScript model and the Python example's torch `Net` are interchangeable:
 * conv weights [out, in, kh, kw], dense weights [out, in] (fc1's inputs in
 * PyTorch's NCHW flatten order: c·25 + h·5 + w), biases [out].
 */

import { NET_PARAMETERS, type Net, type NetParameterName, tfShapeOf } from "./net.js";
import * as tf from "./tf.js";

/** One parameter in PyTorch layout: row-major float32 values and shape. */
export interface WeightTensor {
  /** PyTorch shape, e.g. [6, 3, 5, 5]. */
  shape: number[];
  /** Row-major values. */
  data: Float32Array;
}

/** Parameters keyed by `state_dict` name, in `state_dict` order. */
export type NetWeights = Map<string, WeightTensor>;

/** Weights that do not fit the model (missing, unknown, wrong shape or size). */
export class WeightsError extends Error {
  /** @param message - what is wrong and what to do. */
  constructor(message: string) {
    super(message);
    this.name = "WeightsError";
  }
}

/** Spatial size and channels at fc1's input (5×5×16). */
const FLAT_H = 5;
const FLAT_W = 5;
const FLAT_C = 16;

/** Index in our NHWC flatten order of PyTorch's NCHW flatten index `j`. */
function nhwcIndexOfNchw(j: number): number {
  const c = Math.floor(j / (FLAT_H * FLAT_W));
  const hw = j % (FLAT_H * FLAT_W);
  return hw * FLAT_C + c;
}

/** Converts tfjs-layout values of `name` to PyTorch layout. */
export function tfToTorch(name: NetParameterName, values: Float32Array): Float32Array {
  const tfShape = tfShapeOf(name);
  if (tfShape.length === 1) return Float32Array.from(values);
  const out = new Float32Array(values.length);
  if (tfShape.length === 4) {
    const [kh, kw, cin, cout] = tfShape as [number, number, number, number];
    // tf [i, j, ci, co] → torch [co, ci, i, j]
    for (let i = 0; i < kh; i++)
      for (let j = 0; j < kw; j++)
        for (let ci = 0; ci < cin; ci++)
          for (let co = 0; co < cout; co++) {
            out[((co * cin + ci) * kh + i) * kw + j] = values[
              ((i * kw + j) * cin + ci) * cout + co
            ] as number;
          }
    return out;
  }
  const [nIn, nOut] = tfShape as [number, number];
  const reorder = name === "fc1.weight";
  // tf [in, out] → torch [out, in]; fc1's `in` follows NCHW order in torch.
  for (let o = 0; o < nOut; o++)
    for (let j = 0; j < nIn; j++) {
      const r = reorder ? nhwcIndexOfNchw(j) : j;
      out[o * nIn + j] = values[r * nOut + o] as number;
    }
  return out;
}

/** Converts PyTorch-layout values of `name` to tfjs layout. */
export function torchToTf(name: NetParameterName, values: Float32Array): Float32Array {
  const tfShape = tfShapeOf(name);
  if (tfShape.length === 1) return Float32Array.from(values);
  const out = new Float32Array(values.length);
  if (tfShape.length === 4) {
    const [kh, kw, cin, cout] = tfShape as [number, number, number, number];
    for (let i = 0; i < kh; i++)
      for (let j = 0; j < kw; j++)
        for (let ci = 0; ci < cin; ci++)
          for (let co = 0; co < cout; co++) {
            out[((i * kw + j) * cin + ci) * cout + co] = values[
              ((co * cin + ci) * kh + i) * kw + j
            ] as number;
          }
    return out;
  }
  const [nIn, nOut] = tfShape as [number, number];
  const reorder = name === "fc1.weight";
  for (let o = 0; o < nOut; o++)
    for (let j = 0; j < nIn; j++) {
      const r = reorder ? nhwcIndexOfNchw(j) : j;
      out[r * nOut + o] = values[o * nIn + j] as number;
    }
  return out;
}

/** The model's parameters in PyTorch `state_dict` order, names and layouts. */
export function getWeights(model: Net): NetWeights {
  const out: NetWeights = new Map();
  for (const [name, shape] of NET_PARAMETERS) {
    const values = model.variable(name).dataSync() as Float32Array;
    out.set(name, { shape: [...shape], data: tfToTorch(name, values) });
  }
  return out;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * Loads parameters given in PyTorch names and layouts. Every `state_dict`
 * key must be present with its exact shape; unknown keys are rejected. The
 * model is only changed when all parameters are valid.
 */
export function setWeights(
  model: Net,
  weights: ReadonlyMap<string, WeightTensor> | Record<string, WeightTensor>,
): void {
  const map = weights instanceof Map ? weights : new Map(Object.entries(weights));
  const expected = new Set<string>(NET_PARAMETERS.map(([n]) => n));
  const unknown = [...map.keys()].filter((k) => !expected.has(k));
  if (unknown.length > 0) {
    throw new WeightsError(
      `unknown parameter(s) ${unknown.join(", ")}: expected the Net's state_dict keys ${[...expected].join(", ")}`,
    );
  }
  const converted: [NetParameterName, Float32Array][] = [];
  for (const [name, shape] of NET_PARAMETERS) {
    const w = map.get(name);
    if (!w) throw new WeightsError(`missing parameter ${name} (shape [${shape}])`);
    if (!sameShape(w.shape, shape)) {
      throw new WeightsError(
        `parameter ${name} has shape [${w.shape}], expected [${shape}] (PyTorch layout)`,
      );
    }
    const size = shape.reduce((a: number, b: number) => a * b, 1);
    if (!(w.data instanceof Float32Array) || w.data.length !== size) {
      throw new WeightsError(`parameter ${name} must be a Float32Array of ${size} values`);
    }
    converted.push([name, torchToTf(name, w.data)]);
  }
  for (const [name, values] of converted) {
    const t = tf.tensor(values, tfShapeOf(name), "float32");
    model.variable(name).assign(t);
    t.dispose();
  }
}

/**
 * The Net's parameters as one flat float32 vector (tfjs layouts, `state_dict`
 * order): how workers exchange weights and gradients through shared memory.
 */

import { NET_PARAMETERS, type Net, type NetParameterName, tfShapeOf } from "../net.js";
import * as tf from "../tf.js";

/** One parameter's place in the flat vector. */
export interface ParamSlot {
  /** PyTorch parameter name. */
  name: NetParameterName;
  /** tfjs shape. */
  shape: number[];
  /** First index in the flat vector. */
  offset: number;
  /** Number of values. */
  size: number;
}

/** The slots in `state_dict` order. */
export const PARAM_SLOTS: readonly ParamSlot[] = (() => {
  let offset = 0;
  return NET_PARAMETERS.map(([name]) => {
    const shape = tfShapeOf(name);
    const size = shape.reduce((a, b) => a * b, 1);
    const slot = { name, shape, offset, size };
    offset += size;
    return slot;
  });
})();

/** Number of values in the flat vector (62,006 for the seed's Net). */
export const PARAM_COUNT = PARAM_SLOTS.reduce((n, s) => n + s.size, 0);

/** Copies the Net's weights into `out` (length {@link PARAM_COUNT}). */
export function readFlatWeights(net: Net, out: Float32Array): void {
  for (const slot of PARAM_SLOTS) {
    out.set(net.variable(slot.name).dataSync() as Float32Array, slot.offset);
  }
}

/** Sets the Net's variables from a flat weight vector (length {@link PARAM_COUNT}). */
export function writeFlatWeights(net: Net, flat: Float32Array): void {
  tf.tidy(() => {
    for (const slot of PARAM_SLOTS) {
      net
        .variable(slot.name)
        .assign(tf.tensor(flat.subarray(slot.offset, slot.offset + slot.size), slot.shape));
    }
  });
}

/**
 * `UnsortedSegmentSum` (missing on wasm): out[ids[i]] += x[i] over the
 * leading axes of `x` that `segmentIds` covers. It is the gradient of
 * `Gather`, i.e. of an `Embedding` layer. Float32 data; negative or
 * out-of-range ids are dropped, as TensorFlow does.
 */
import * as tf from "../tf.js";
import { BackendAccess } from "./backend-access.js";
import { UnsupportedKernelConfigError } from "./errors.js";

/** Creates the `UnsortedSegmentSum` kernel config for `backendName`. */
export function unsortedSegmentSumConfig(backendName: string): tf.KernelConfig {
  return {
    kernelName: tf.UnsortedSegmentSum,
    backendName,
    kernelFunc: ({ inputs, attrs, backend }) => {
      const access = new BackendAccess(backend, backendName);
      const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
      const { numSegments } = attrs as unknown as { numSegments: number };
      if (x.dtype !== "float32") {
        throw new UnsupportedKernelConfigError(
          "UnsortedSegmentSum",
          `${x.dtype} data (only float32)`,
        );
      }
      const count = segmentIds.shape.reduce((a, b) => a * b, 1);
      const rest = x.shape.slice(segmentIds.shape.length);
      const inner = rest.reduce((a, b) => a * b, 1);
      const out = access.zeros([numSegments, ...rest]);
      // Views taken after the allocation.
      const dst = out.data;
      const src = access.read(x);
      const ids = access.readInt32(segmentIds);
      for (let i = 0; i < count; i++) {
        const id = ids[i] as number;
        if (id < 0 || id >= numSegments) continue;
        const to = id * inner;
        const from = i * inner;
        for (let k = 0; k < inner; k++)
          dst[to + k] = (dst[to + k] as number) + (src[from + k] as number);
      }
      return out.info;
    },
  };
}

/**
 * Kernels the wasm backend lacks, run by the cpu backend's own implementation:
 * inputs are copied out of the wasm heap into a private cpu backend, its
 * registered kernel runs there, and the result is copied back. Correct by
 * construction (the stock cpu kernels), meant for kernels that are small next
 * to the rest of a training step (the depthwise-convolution gradients).
 */
import * as tf from "../tf.js";
import { BackendAccess } from "./backend-access.js";

/** The cpu backend surface used here. */
interface CpuBackend {
  write(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType): tf.DataId;
  readSync(dataId: tf.DataId): tf.backend_util.BackendValues;
  disposeData(dataId: tf.DataId, force?: boolean): boolean;
}

let cpu: CpuBackend | undefined;

/** A cpu backend instance of our own (not the engine's, which may not exist). */
function cpuBackend(): CpuBackend {
  if (!cpu) {
    const factory = tf.findBackendFactory("cpu");
    if (!factory) throw new Error("flwr-ml kernels: the cpu backend is not registered");
    const made = factory() as unknown as CpuBackend & { firstUse?: boolean };
    made.firstUse = false; // no "use tfjs-node" greeting from a backend nobody chose
    cpu = made;
  }
  return cpu;
}

/** Wasm kernel config that runs the cpu backend's `kernelName` (float32/int32 inputs, one float32 output). */
export function cpuDelegateConfig(kernelName: string): (backendName: string) => tf.KernelConfig {
  return (backendName) => ({
    kernelName,
    backendName,
    kernelFunc: ({ inputs, attrs, backend }) => {
      const access = new BackendAccess(backend, backendName);
      const reference = tf.getKernel(kernelName, "cpu");
      if (!reference) throw new Error(`flwr-ml kernels: the cpu backend has no ${kernelName}`);
      const c = cpuBackend();
      const made: tf.TensorInfo[] = [];
      try {
        const cpuInputs: tf.NamedTensorInfoMap = {};
        for (const [name, input] of Object.entries(inputs as tf.NamedTensorInfoMap)) {
          const info = input as tf.TensorInfo;
          const values =
            info.dtype === "int32" ? access.readInt32(info).slice() : access.read(info).slice();
          const t = {
            dataId: c.write(values, [...info.shape], info.dtype),
            shape: info.shape,
            dtype: info.dtype,
          };
          made.push(t);
          cpuInputs[name] = t;
        }
        const out = reference.kernelFunc({
          inputs: cpuInputs,
          attrs,
          backend: c as unknown as tf.KernelBackend,
        }) as tf.TensorInfo;
        made.push(out);
        if (out.dtype !== "float32")
          throw new TypeError(`${kernelName}: expected a float32 result`);
        return access.upload([...out.shape], c.readSync(out.dataId) as Float32Array);
      } finally {
        for (const t of made) c.disposeData(t.dataId, true);
      }
    },
  });
}

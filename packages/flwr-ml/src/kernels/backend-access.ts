/**
 * Backend-neutral access to tensor memory and to a backend's own kernels, for
 * the kernels this package registers on the `wasm` and `cpu` backends.
 */
import * as tf from "../tf.js";

/** The subset of a tfjs backend object our kernels use. */
interface BackendLike {
  /** wasm: a typed-array view of a tensor in the WebAssembly heap. */
  typedArrayFromHeap?: (info: tf.TensorInfo) => tf.backend_util.TypedArray;
  /** wasm: allocates an output tensor in the heap. */
  makeOutput?: (shape: number[], dtype: tf.DataType) => tf.TensorInfo;
  /** cpu: reads a tensor's values. */
  readSync: (dataId: tf.DataId) => tf.backend_util.BackendValues;
  /** cpu: registers a new tensor from values. */
  makeTensorInfo?: (
    shape: number[],
    dtype: tf.DataType,
    values?: tf.backend_util.BackendValues,
  ) => tf.TensorInfo;
  /** cpu: frees an intermediate tensor. */
  disposeIntermediateTensorInfo?: (info: tf.TensorInfo) => void;
  /** every backend: decrements a tensor's reference count. */
  disposeData: (dataId: tf.DataId, force?: boolean) => boolean;
}

/** A float32 output tensor and a writable view of its values. */
export interface Float32Output {
  /** The tensor handed back to the engine. */
  info: tf.TensorInfo;
  /** Its values (zero-filled); valid until the backend allocates again. */
  data: Float32Array;
}

/**
 * Wraps one backend instance so a kernel can read inputs, allocate outputs and
 * call the backend's own kernels without knowing which backend it runs on.
 */
export class BackendAccess {
  private readonly backend: BackendLike;

  /**
   * @param backend - the `backend` argument a kernel function receives.
   * @param backendName - the name the backend is registered under (`wasm`, `cpu`).
   */
  constructor(
    backend: unknown,
    readonly backendName: string,
  ) {
    this.backend = backend as BackendLike;
  }

  /** Values of a float32 tensor (a view: do not keep it across allocations). */
  read(info: tf.TensorInfo): Float32Array {
    if (info.dtype !== "float32") {
      throw new TypeError(`flwr-ml kernels expect float32 tensors, got ${info.dtype}`);
    }
    const values = this.backend.typedArrayFromHeap
      ? this.backend.typedArrayFromHeap(info)
      : this.backend.readSync(info.dataId);
    if (!(values instanceof Float32Array)) {
      throw new TypeError(
        "flwr-ml kernels: backend returned non-float32 values for a float32 tensor",
      );
    }
    return values;
  }

  /** Values of an int32 tensor (a view: do not keep it across allocations). */
  readInt32(info: tf.TensorInfo): Int32Array {
    if (info.dtype !== "int32") throw new TypeError(`expected an int32 tensor, got ${info.dtype}`);
    const values = this.backend.typedArrayFromHeap
      ? this.backend.typedArrayFromHeap(info)
      : this.backend.readSync(info.dataId);
    if (!(values instanceof Int32Array))
      throw new TypeError("backend returned non-int32 values for an int32 tensor");
    return values;
  }

  /** Allocates a zero-filled float32 output tensor. */
  zeros(shape: number[]): Float32Output {
    const size = shape.reduce((a, b) => a * b, 1);
    if (this.backend.makeOutput && this.backend.typedArrayFromHeap) {
      const info = this.backend.makeOutput(shape, "float32");
      const data = this.backend.typedArrayFromHeap(info) as Float32Array;
      data.fill(0);
      return { info, data };
    }
    if (this.backend.makeTensorInfo) {
      const data = new Float32Array(size);
      const info = this.backend.makeTensorInfo(shape, "float32", data);
      return { info, data };
    }
    throw new Error(`flwr-ml kernels: backend '${this.backendName}' cannot allocate outputs`);
  }

  /** A new float32 tensor holding a copy of `values` (length = product of `shape`). */
  upload(shape: number[], values: Float32Array): tf.TensorInfo {
    const size = shape.reduce((a, b) => a * b, 1);
    if (values.length !== size) {
      throw new RangeError(`flwr-ml kernels: ${values.length} values for shape [${shape}]`);
    }
    if (this.backend.makeOutput && this.backend.typedArrayFromHeap) {
      const info = this.backend.makeOutput(shape, "float32");
      (this.backend.typedArrayFromHeap(info) as Float32Array).set(values);
      return info;
    }
    if (this.backend.makeTensorInfo) {
      return this.backend.makeTensorInfo(shape, "float32", values.slice());
    }
    throw new Error(`flwr-ml kernels: backend '${this.backendName}' cannot allocate outputs`);
  }

  /**
   * A new float32 tensor of `shape` holding `src`'s values from `offset` on
   * (a contiguous slice, copied once; the stock wasm Slice copies the whole
   * source first).
   */
  slice(src: tf.TensorInfo, offset: number, shape: number[]): tf.TensorInfo {
    const size = shape.reduce((a, b) => a * b, 1);
    const srcSize = src.shape.reduce((a, b) => a * b, 1);
    if (offset < 0 || offset + size > srcSize) {
      throw new RangeError(
        `flwr-ml kernels: slice [${offset}, ${offset + size}) of ${srcSize} values`,
      );
    }
    if (this.backend.makeOutput && this.backend.typedArrayFromHeap) {
      const info = this.backend.makeOutput(shape, "float32");
      // Views taken after the allocation (it may grow the heap). A memmove
      // within the heap: TypedArray.set between views of one buffer is slow.
      const from = this.read(src);
      const to = this.backend.typedArrayFromHeap(info) as Float32Array;
      const heap = new Float32Array(to.buffer);
      const start = from.byteOffset / 4 + offset;
      heap.copyWithin(to.byteOffset / 4, start, start + size);
      return info;
    }
    return this.upload(shape, this.read(src).subarray(offset, offset + size));
  }

  /** Frees an intermediate tensor made by {@link BackendAccess.run}. */
  dispose(info: tf.TensorInfo): void {
    if (this.backend.disposeIntermediateTensorInfo)
      this.backend.disposeIntermediateTensorInfo(info);
    else this.backend.disposeData(info.dataId);
  }

  /**
   * Runs the backend's own registered kernel `name` directly (no engine, no
   * tape): the result is an intermediate the caller must dispose or return.
   */
  run(name: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap = {}): tf.TensorInfo {
    const config = originalKernel(name, this.backendName);
    const out = config.kernelFunc({
      inputs,
      attrs,
      backend: this.backend as unknown as tf.KernelBackend,
    });
    if (Array.isArray(out)) {
      throw new Error(`flwr-ml kernels: kernel ${name} returned several outputs`);
    }
    return out;
  }
}

const originals = new Map<string, tf.KernelConfig>();

/**
 * The backend's own kernel `name`, as registered before this package replaced
 * it (if it did).
 */
export function originalKernel(name: string, backendName: string): tf.KernelConfig {
  const key = `${backendName}/${name}`;
  const saved = originals.get(key);
  if (saved) return saved;
  const config = tf.getKernel(name, backendName);
  if (!config) {
    throw new Error(`flwr-ml kernels: backend '${backendName}' has no kernel ${name}`);
  }
  return config;
}

/**
 * Registers `config`, replacing (and remembering) any kernel already
 * registered under the same name for the same backend. The original's
 * `setupFunc` is kept so a backend initialised later still sets it up.
 */
export function replaceKernel(config: tf.KernelConfig): void {
  const key = `${config.backendName}/${config.kernelName}`;
  const existing = tf.getKernel(config.kernelName, config.backendName);
  if (existing && !originals.has(key)) originals.set(key, existing);
  if (existing) tf.unregisterKernel(config.kernelName, config.backendName);
  const setupFunc = config.setupFunc ?? originals.get(key)?.setupFunc;
  tf.registerKernel(setupFunc ? { ...config, setupFunc } : config);
}

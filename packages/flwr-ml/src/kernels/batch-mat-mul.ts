/**
 * `BatchMatMul`: the wasm backend's kernel is about six times slower on
 * transposed operands than transposing first, and dense layers' gradients use
 * exactly those (dy·Wᵀ, xᵀ·dy). This wrapper transposes the operand with the
 * backend's own `Transpose` and calls the backend's own `BatchMatMul`
 * untransposed. Small products (≤ {@link SMALL_MATMUL_MACS} multiply-adds,
 * e.g. the Net's fc3 gradients) are computed by a plain loop instead:
 * XNNPACK repacks its right operand on every call, which costs more than the
 * arithmetic at these sizes.
 */
import * as tf from "../tf.js";
import { BackendAccess, originalKernel } from "./backend-access.js";

/** Largest product (batch·m·k·n multiply-adds) computed by the plain loop. */
export const SMALL_MATMUL_MACS = 50_000;

/** out[b] = op(a[b])·op(b[b]) with broadcasting of a batch of 1, in a plain loop. */
function smallMatMul(
  access: BackendAccess,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
): tf.TensorInfo {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = (transposeA ? a.shape[ra - 1] : a.shape[ra - 2]) as number;
  const k = (transposeA ? a.shape[ra - 2] : a.shape[ra - 1]) as number;
  const n = (transposeB ? b.shape[rb - 2] : b.shape[rb - 1]) as number;
  const batchA = a.shape.slice(0, -2).reduce((x, y) => x * y, 1);
  const batchB = b.shape.slice(0, -2).reduce((x, y) => x * y, 1);
  const batch = Math.max(batchA, batchB);
  const outerShape = (batchA >= batchB ? a.shape : b.shape).slice(0, -2);
  const out = access.zeros([...outerShape, m, n]);
  const o = out.data;
  const av = access.read(a);
  const bv = access.read(b);
  // Strides of op(a)[i, p] and op(b)[p, j].
  const aRow = transposeA ? 1 : k;
  const aCol = transposeA ? m : 1;
  const bRow = transposeB ? 1 : n;
  const bCol = transposeB ? k : 1;
  for (let t = 0; t < batch; t++) {
    const aBase = (batchA === 1 ? 0 : t) * m * k;
    const bBase = (batchB === 1 ? 0 : t) * k * n;
    const oBase = t * m * n;
    for (let i = 0; i < m; i++) {
      const oRow = oBase + i * n;
      for (let p = 0; p < k; p++) {
        const x = av[aBase + i * aRow + p * aCol] as number;
        if (x === 0) continue;
        const bp = bBase + p * bRow;
        for (let j = 0; j < n; j++)
          o[oRow + j] = (o[oRow + j] as number) + x * (bv[bp + j * bCol] as number);
      }
    }
  }
  return out.info;
}

/** Creates the `BatchMatMul` kernel config (wrapping the original) for `backendName`. */
export function batchMatMulConfig(backendName: string): tf.KernelConfig {
  return {
    kernelName: tf.BatchMatMul,
    backendName,
    kernelFunc: (args) => {
      const { inputs, attrs, backend } = args;
      const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const { transposeA, transposeB } = attrs as unknown as tf.BatchMatMulAttrs;
      const original = originalKernel(tf.BatchMatMul, backendName);
      const access = new BackendAccess(backend, backendName);
      const ra = a.shape.length;
      const rb = b.shape.length;
      const batchA = a.shape.slice(0, -2).reduce((x, y) => x * y, 1);
      const batchB = b.shape.slice(0, -2).reduce((x, y) => x * y, 1);
      const macs =
        Math.max(batchA, batchB) *
        (a.shape[ra - 1] as number) *
        (a.shape[ra - 2] as number) *
        (transposeB ? (b.shape[rb - 2] as number) : (b.shape[rb - 1] as number));
      const broadcastable = batchA === batchB || batchA === 1 || batchB === 1;
      if (
        macs <= SMALL_MATMUL_MACS &&
        broadcastable &&
        a.dtype === "float32" &&
        b.dtype === "float32"
      ) {
        return smallMatMul(access, a, b, transposeA, transposeB);
      }
      if (!transposeA && !transposeB) return original.kernelFunc(args);
      const temps: tf.TensorInfo[] = [];
      const swapLast = (t: tf.TensorInfo): tf.TensorInfo => {
        const rank = t.shape.length;
        const perm = [...Array(rank).keys()];
        perm[rank - 1] = rank - 2;
        perm[rank - 2] = rank - 1;
        const out = access.run(tf.Transpose, { x: t }, { perm });
        temps.push(out);
        return out;
      };
      try {
        const a2 = transposeA ? swapLast(a) : a;
        const b2 = transposeB ? swapLast(b) : b;
        const out = original.kernelFunc({
          inputs: { a: a2, b: b2 },
          attrs: { ...attrs, transposeA: false, transposeB: false },
          backend,
        });
        return out;
      } finally {
        for (const t of temps) access.dispose(t);
      }
    },
  };
}

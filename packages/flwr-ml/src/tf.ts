/**
 * The TensorFlow.js this package is built on, as one namespace: tfjs-core (tensors, ops,
 * gradients, optimizers, kernel registry), tfjs-layers (`tf.sequential`, `tf.layers`,
 * `tf.model`, `tf.loadLayersModel`) and the `cpu` backend, registered on import. The `wasm`
 * backend (`@tensorflow/tfjs-backend-wasm`) is imported on demand by `initBackend`, and
 * `@tensorflow/tfjs-node` when an app installs it.
 *
 * It stands in for the `@tensorflow/tfjs` union package, which also brings the WebGL backend,
 * the graph-model converter and tfjs-data (about 190 MB of `node_modules` that training in
 * Node never loads). Missing compared with it: `tf.data`, `tf.loadGraphModel` and the
 * converter, and the WebGL backend; an app that needs them installs `@tensorflow/tfjs` itself
 * (it shares this tfjs-core when the versions agree).
 *
 * What the union package adds besides its parts, and this module therefore does too: the
 * chained ops (`tensor.cast()`, `tensor.sum()`, …). tfjs-core ships them only as ES modules
 * that Node cannot load from its CommonJS package, so they are installed here, each exactly as
 * tfjs-core's `public/chained_ops/*.ts` defines it; the type-only export brings their
 * declarations. The layers bundle registers every op's gradient, as the union package does.
 */
import "@tensorflow/tfjs-backend-cpu";
import * as core from "@tensorflow/tfjs-core";

export * from "@tensorflow/tfjs-core";
export type {} from "@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js";
export * from "@tensorflow/tfjs-layers";

/** Chained ops that call the op of the same name with the tensor as the first argument. */
const FORWARDED = (
  "abs acos acosh add all any argMax argMin asin asinh atan atan2 atanh avgPool batchToSpaceND " +
  "batchNorm broadcastTo cast ceil clipByValue conv1d conv2d conv2dTranspose cos cosh cumprod " +
  "cumsum depthToSpace depthwiseConv2d dilation2d div divNoNan dot elu equal erf euclideanNorm " +
  "exp expandDims expm1 fft floor floorDiv gather greater greaterEqual ifft irfft isFinite isInf " +
  "isNaN leakyRelu less lessEqual localResponseNormalization log log1p logSigmoid logSoftmax " +
  "logSumExp logicalAnd logicalNot logicalOr logicalXor matMul max maxPool maximum mean min " +
  "minimum mirrorPad mod mul neg norm notEqual oneHot onesLike pad pool pow prelu prod " +
  "reciprocal relu relu6 reshape reverse rfft round rsqrt selu separableConv2d sigmoid sign sin " +
  "sinh slice softmax softplus spaceToBatchND split sqrt square squaredDifference squeeze step " +
  "stridedSlice sub sum tan tanh tile topk transpose unique unsortedSegmentSum unstack zerosLike"
).split(" ");

type Op = (x: core.Tensor, ...args: unknown[]) => core.Tensor;
type Method = (this: core.Tensor, ...args: unknown[]) => unknown;

function installChainedOps(): void {
  const proto = core.Tensor.prototype as unknown as Record<string, Method>;
  const define = (name: string, method: Method) => {
    // tfjs-node or the union package, when also loaded, has installed the same methods.
    if (typeof proto[name] === "function") return;
    proto[name] = function (this: core.Tensor, ...args: unknown[]) {
      this.throwIfDisposed();
      return method.apply(this, args);
    };
  };
  const ops = core as unknown as Record<string, Op>;
  for (const name of FORWARDED) {
    const op = ops[name];
    if (op === undefined) throw new Error(`tfjs-core has no op ${name}`);
    define(name, function (...args) {
      return op(this, ...args);
    });
  }
  const image = core.image as unknown as Record<string, Op>;
  for (const name of ["resizeBilinear", "resizeNearestNeighbor"]) {
    const op = image[name] as Op;
    define(name, function (...args) {
      return op(this, ...args);
    });
  }
  const shaped = (shape: (t: core.Tensor, args: number[]) => number[]) =>
    function (this: core.Tensor, ...args: unknown[]) {
      return core.reshape(this, shape(this, args as number[]));
    };
  define(
    "as1D",
    shaped((t) => [t.size]),
  );
  for (const [name, rank] of [
    ["as2D", 2],
    ["as3D", 3],
    ["as4D", 4],
    ["as5D", 5],
  ] as const) {
    define(
      name,
      shaped((_, args) => args.slice(0, rank)),
    );
  }
  define("asScalar", function () {
    core.util.assert(this.size === 1, () => "The array must have only 1 element.");
    return core.reshape(this, []);
  });
  define(
    "flatten",
    shaped((t) => [t.size]),
  );
  define("reshapeAs", function (x) {
    return core.reshape(this, (x as core.Tensor).shape);
  });
  define("asType", function (dtype) {
    return core.cast(this, dtype as core.DataType);
  });
  define("toBool", function () {
    return core.cast(this, "bool");
  });
  define("toFloat", function () {
    return core.cast(this, "float32");
  });
  define("toInt", function () {
    return core.cast(this, "int32");
  });
  define("concat", function (x, axis) {
    const rest = x instanceof core.Tensor ? [x] : (x as core.Tensor[]);
    return core.concat([this, ...rest], axis as number | undefined);
  });
  define("stack", function (x, axis) {
    const rest = x instanceof core.Tensor ? [x] : (x as core.Tensor[]);
    return core.stack([this, ...rest], axis as number | undefined);
  });
  define("where", function (condition, x) {
    return core.where(condition as core.Tensor, this, x as core.Tensor);
  });
}

installChainedOps();

/**
 * How a tfjs `LayersModel`'s weights map to Flower `ArrayRecord` entries:
 *
 * - `keras` (default): one entry per weight of `model.weights`, in that order,
 *   keyed by the weight's name as the layer defines it (`originalName`, e.g.
 *   `fc1/kernel`, `bn/moving_mean`: tfjs appends `_1`, `_2`… to `name` when a
 *   second model in the same process reuses a layer name, `originalName` stays
 *   the same), shapes and layouts as tfjs holds them, float32.
 * - `pytorch`: PyTorch `state_dict` keys (`<module>.weight`, `.bias`,
 *   `.running_mean`…, the module named after the tfjs layer or
 *   `torchModules[layer]`) and layouts (dense `[out, in]`, conv `[out, in, kh, kw]`),
 *   layer by layer in `model.layers` order, where the layer has a PyTorch
 *   counterpart; other layers with weights are refused.
 */
import type * as tf from "../tf.js";
import { WeightsError } from "../weights.js";
import {
  denseFromTorch,
  denseToTorch,
  nhwcRowOfNchw,
  spatialFirstToLast,
  spatialLastToFirst,
  transpose2d,
} from "./torch-layout.js";

/** A weight of a layers model (tfjs-layers' `LayerVariable`). */
export type LayerVariable = tf.LayersModel["weights"][number];

/** Key naming and layout of a model's ArrayRecord. */
export type WeightNaming = "keras" | "pytorch";

/** Options of the generic model ↔ ArrayRecord conversions. */
export interface ModelWeightsOptions {
  /** `keras` (default: tfjs names, order and layouts) or `pytorch` (`state_dict` names and layouts). */
  naming?: WeightNaming;
  /**
   * `pytorch` naming only: the PyTorch module path of a tfjs layer (e.g.
   * `{ dense_1: "classifier.0" }`); default: the layer's name.
   */
  torchModules?: Readonly<Record<string, string>>;
}

/** One ArrayRecord entry. */
export interface RecordEntry {
  /** Key in the record. */
  key: string;
  /** Shape in the record. */
  shape: number[];
  /** `int64` only for PyTorch's `num_batches_tracked` counters (written 0, ignored on load). */
  dtype: "float32" | "int64";
  /** May be missing on load (then ignored). */
  optional?: boolean;
}

/** Some of the model's weights and the record entries they become. */
export interface WeightGroup {
  /** The tfjs weights, in the order `toRecord`/`fromRecord` use. */
  variables: LayerVariable[];
  /** The record entries. */
  entries: RecordEntry[];
  /** tfjs values (one per variable) → record values (one per float32 entry; int64 entries omitted). */
  toRecord(values: Float32Array[]): Float32Array[];
  /** Record values (one per float32 entry) → tfjs values (one per variable). */
  fromRecord(values: Float32Array[]): Float32Array[];
}

const identity = (values: Float32Array[]) => values.map((v) => Float32Array.from(v));

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The suffix of a weight's name after the layer's name (`kernel`, `moving_mean`, …). */
function leaf(v: LayerVariable): string {
  const name = v.originalName;
  return name.slice(name.lastIndexOf("/") + 1);
}

/** The groups of `model` for `options`; throws {@link WeightsError} on unsupported layers. */
export function weightGroups(
  model: tf.LayersModel,
  options: ModelWeightsOptions = {},
): WeightGroup[] {
  const naming = options.naming ?? "keras";
  if (naming !== "keras" && naming !== "pytorch") {
    throw new WeightsError(`naming must be "keras" or "pytorch", got ${JSON.stringify(naming)}`);
  }
  const groups = naming === "keras" ? kerasGroups(model) : torchGroups(model, options);
  const seen = new Set<string>();
  for (const g of groups) {
    for (const v of g.variables) {
      if (v.dtype !== "float32") {
        throw new WeightsError(
          `weight ${v.originalName} is ${v.dtype}: only float32 weights are supported`,
        );
      }
    }
    for (const e of g.entries) {
      if (seen.has(e.key)) {
        throw new WeightsError(
          `two weights map to the key ${e.key}: give the model's layers unique names`,
        );
      }
      seen.add(e.key);
    }
  }
  return groups;
}

function kerasGroups(model: tf.LayersModel): WeightGroup[] {
  return model.weights.map((v) => ({
    variables: [v],
    entries: [{ key: v.originalName, shape: [...v.shape] as number[], dtype: "float32" }],
    toRecord: identity,
    fromRecord: identity,
  }));
}

/** Layers of `model`, nested models flattened (with their names as module prefixes). */
function leafLayers(
  model: tf.LayersModel,
  prefix: string,
): { layer: tf.layers.Layer; path: string }[] {
  const out: { layer: tf.layers.Layer; path: string }[] = [];
  for (const layer of model.layers) {
    const nested = (layer as unknown as { layers?: unknown }).layers;
    if (Array.isArray(nested)) {
      out.push(...leafLayers(layer as unknown as tf.LayersModel, `${prefix}${layer.name}.`));
    } else {
      out.push({ layer, path: `${prefix}${layer.name}` });
    }
  }
  return out;
}

function configOf(layer: tf.layers.Layer): Record<string, unknown> {
  return layer.getConfig() as Record<string, unknown>;
}

/** The layer's weights by leaf name; throws when one is missing. */
function byLeaf(layer: tf.layers.Layer, names: string[]): LayerVariable[] {
  const map = new Map(layer.weights.map((v) => [leaf(v), v]));
  return names.map((n) => {
    const v = map.get(n);
    if (!v) {
      throw new WeightsError(
        `layer ${layer.name} (${layer.getClassName()}) has no ${n} weight: its PyTorch counterpart needs it (e.g. useBias / center / scale)`,
      );
    }
    return v;
  });
}

/** Layers that keep the flattened features as they are (between a Flatten and a Dense). */
const PASS_THROUGH = new Set(["Dropout", "Activation", "ReLU", "LeakyReLU", "ELU", "Softmax"]);

/**
 * For a Dense layer fed by a `Flatten` of a rank ≥ 3 tensor (possibly through
 * dropout or activations): the tfjs row of each torch input (torch flattens
 * NCHW), else undefined.
 */
function flattenRows(layer: tf.layers.Layer): Uint32Array | undefined {
  let source: tf.layers.Layer | undefined = layer.inboundNodes[0]?.inboundLayers[0];
  while (source && PASS_THROUGH.has(source.getClassName())) {
    source = source.inboundNodes[0]?.inboundLayers[0];
  }
  if (source?.getClassName() !== "Flatten") return undefined;
  const shape = source.inboundNodes[0]?.inputShapes[0] as (number | null)[] | undefined;
  if (!shape || shape.length < 3) return undefined;
  const dims = shape.slice(1) as number[];
  const c = dims[dims.length - 1] as number;
  const spatial = sizeOf(dims.slice(0, -1));
  return nhwcRowOfNchw(spatial, 1, c);
}

function torchGroups(model: tf.LayersModel, options: ModelWeightsOptions): WeightGroup[] {
  const groups: WeightGroup[] = [];
  for (const { layer, path } of leafLayers(model, "")) {
    if (layer.weights.length === 0) continue;
    const module = options.torchModules?.[layer.name] ?? path;
    groups.push(...torchGroupsOf(layer, module));
  }
  const covered = new Set(groups.flatMap((g) => g.variables));
  const left = model.weights.filter((v) => !covered.has(v));
  if (left.length > 0) {
    throw new WeightsError(
      `no PyTorch mapping for weight(s) ${left.map((v) => v.originalName).join(", ")}`,
    );
  }
  return groups;
}

function f32(key: string, shape: number[]): RecordEntry {
  return { key, shape, dtype: "float32" };
}

function torchGroupsOf(layer: tf.layers.Layer, m: string): WeightGroup[] {
  const cls = layer.getClassName();
  const config = configOf(layer);
  const useBias = config["useBias"] !== false;
  const biasGroup = (): WeightGroup[] => {
    if (!useBias) return [];
    const [b] = byLeaf(layer, ["bias"]);
    const v = b as LayerVariable;
    return [
      {
        variables: [v],
        entries: [f32(`${m}.bias`, [...v.shape] as number[])],
        toRecord: identity,
        fromRecord: identity,
      },
    ];
  };
  switch (cls) {
    case "Dense": {
      const [k] = byLeaf(layer, ["kernel"]) as [LayerVariable];
      const [nIn, nOut] = k.shape as [number, number];
      const rows = flattenRows(layer);
      if (rows && rows.length !== nIn) {
        throw new WeightsError(`layer ${layer.name}: flatten size ${rows.length} is not ${nIn}`);
      }
      return [
        {
          variables: [k],
          entries: [f32(`${m}.weight`, [nOut, nIn])],
          toRecord: ([v]) => [denseToTorch(v as Float32Array, nIn, nOut, rows)],
          fromRecord: ([v]) => [denseFromTorch(v as Float32Array, nIn, nOut, rows)],
        },
        ...biasGroup(),
      ];
    }
    case "Conv1D":
    case "Conv2D": {
      const [k] = byLeaf(layer, ["kernel"]) as [LayerVariable];
      const shape = k.shape as number[];
      const spatialDims = shape.slice(0, -2);
      const [cin, cout] = shape.slice(-2) as [number, number];
      const s = sizeOf(spatialDims);
      return [
        {
          variables: [k],
          entries: [f32(`${m}.weight`, [cout, cin, ...spatialDims])],
          toRecord: ([v]) => [spatialLastToFirst(v as Float32Array, s, cin, cout)],
          fromRecord: ([v]) => [spatialFirstToLast(v as Float32Array, s, cin, cout)],
        },
        ...biasGroup(),
      ];
    }
    case "DepthwiseConv2D": {
      const [k] = byLeaf(layer, ["depthwise_kernel"]) as [LayerVariable];
      const [kh, kw, cin, mult] = k.shape as [number, number, number, number];
      const out = cin * mult;
      // torch Conv2d(groups=in): output channel c·mult + j, as tfjs orders them.
      return [
        {
          variables: [k],
          entries: [f32(`${m}.weight`, [out, 1, kh, kw])],
          toRecord: ([v]) => [spatialLastToFirst(v as Float32Array, kh * kw, 1, out)],
          fromRecord: ([v]) => [spatialFirstToLast(v as Float32Array, kh * kw, 1, out)],
        },
        ...biasGroup(),
      ];
    }
    case "SeparableConv2D": {
      const [d, p] = byLeaf(layer, ["depthwise_kernel", "pointwise_kernel"]) as [
        LayerVariable,
        LayerVariable,
      ];
      const [kh, kw, cin, mult] = d.shape as [number, number, number, number];
      const mid = cin * mult;
      const cout = p.shape[3] as number;
      return [
        {
          variables: [d],
          entries: [f32(`${m}.depthwise.weight`, [mid, 1, kh, kw])],
          toRecord: ([v]) => [spatialLastToFirst(v as Float32Array, kh * kw, 1, mid)],
          fromRecord: ([v]) => [spatialFirstToLast(v as Float32Array, kh * kw, 1, mid)],
        },
        {
          variables: [p],
          entries: [f32(`${m}.pointwise.weight`, [cout, mid, 1, 1])],
          toRecord: ([v]) => [transpose2d(v as Float32Array, mid, cout)],
          fromRecord: ([v]) => [transpose2d(v as Float32Array, cout, mid)],
        },
        ...biasGroup().map((g) => ({ ...g, entries: [f32(`${m}.pointwise.bias`, [cout])] })),
      ];
    }
    case "BatchNormalization": {
      const vars = byLeaf(layer, ["gamma", "beta", "moving_mean", "moving_variance"]);
      const n = vars[0]?.shape[0] as number;
      return [
        {
          variables: vars,
          entries: [
            f32(`${m}.weight`, [n]),
            f32(`${m}.bias`, [n]),
            f32(`${m}.running_mean`, [n]),
            f32(`${m}.running_var`, [n]),
            { key: `${m}.num_batches_tracked`, shape: [], dtype: "int64", optional: true },
          ],
          toRecord: identity,
          fromRecord: identity,
        },
      ];
    }
    case "LayerNormalization": {
      const vars = byLeaf(layer, ["gamma", "beta"]);
      const n = vars[0]?.shape[0] as number;
      return [
        {
          variables: vars,
          entries: [f32(`${m}.weight`, [n]), f32(`${m}.bias`, [n])],
          toRecord: identity,
          fromRecord: identity,
        },
      ];
    }
    case "Embedding": {
      const [e] = byLeaf(layer, ["embeddings"]) as [LayerVariable];
      return [
        {
          variables: [e],
          entries: [f32(`${m}.weight`, [...e.shape] as number[])],
          toRecord: identity,
          fromRecord: identity,
        },
      ];
    }
    case "LSTM":
    case "SimpleRNN":
      return [recurrentGroup(layer, m, cls === "LSTM" ? 4 : 1)];
    case "GRU":
      throw new WeightsError(
        `layer ${layer.name} (GRU): tfjs's GRU applies the reset gate before the recurrent product, PyTorch's after: the architectures differ; use naming "keras"`,
      );
    default:
      throw new WeightsError(
        `layer ${layer.name} (${cls}) has weights but no PyTorch mapping; use naming "keras"`,
      );
  }
}

/**
 * LSTM (gates i, f, c, o in both) or SimpleRNN → `weight_ih_l0` `[g·u, in]`,
 * `weight_hh_l0` `[g·u, u]`, `bias_ih_l0` (tfjs's bias) and `bias_hh_l0`
 * (zeros; on load the two are summed into tfjs's single bias).
 */
function recurrentGroup(layer: tf.layers.Layer, m: string, gates: number): WeightGroup {
  const config = configOf(layer);
  const cls = layer.getClassName();
  const activation = config["activation"];
  if (cls === "LSTM") {
    if (activation !== "tanh" || config["recurrentActivation"] !== "sigmoid") {
      throw new WeightsError(
        `layer ${layer.name} (LSTM): PyTorch's LSTM is activation "tanh" with recurrentActivation "sigmoid" (tfjs's default is hardSigmoid), got ${String(activation)}/${String(config["recurrentActivation"])}`,
      );
    }
  } else if (activation !== "tanh" && activation !== "relu") {
    throw new WeightsError(
      `layer ${layer.name} (SimpleRNN): PyTorch's RNN is tanh or relu, got ${String(activation)}`,
    );
  }
  if (config["useBias"] === false) {
    throw new WeightsError(
      `layer ${layer.name} (${cls}): useBias false has no PyTorch mapping here`,
    );
  }
  const [k, r, b] = byLeaf(layer, ["kernel", "recurrent_kernel", "bias"]) as [
    LayerVariable,
    LayerVariable,
    LayerVariable,
  ];
  const nIn = k.shape[0] as number;
  const g = k.shape[1] as number;
  const u = g / gates;
  return {
    variables: [k, r, b],
    entries: [
      f32(`${m}.weight_ih_l0`, [g, nIn]),
      f32(`${m}.weight_hh_l0`, [g, u]),
      f32(`${m}.bias_ih_l0`, [g]),
      f32(`${m}.bias_hh_l0`, [g]),
    ],
    toRecord: ([kv, rv, bv]) => [
      transpose2d(kv as Float32Array, nIn, g),
      transpose2d(rv as Float32Array, u, g),
      Float32Array.from(bv as Float32Array),
      new Float32Array(g),
    ],
    fromRecord: ([wih, whh, bih, bhh]) => {
      const bias = new Float32Array(g);
      for (let i = 0; i < g; i++) bias[i] = (bih?.[i] as number) + (bhh?.[i] as number);
      return [
        transpose2d(wih as Float32Array, g, nIn),
        transpose2d(whh as Float32Array, g, u),
        bias,
      ];
    },
  };
}

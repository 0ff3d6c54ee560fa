/**
 * Generic tfjs LayersModel ↔ ArrayRecord: Keras names (order, shapes,
 * non-trainable weights), PyTorch `state_dict` names and layouts (the seed's
 * Net written as a tf.sequential loads PyTorch's own state_dict and
 * reproduces its logits), round trips, and refused records.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ArrayRecord, NdArray } from "@flwr-ts/core";
import { beforeAll, describe, expect, it } from "vitest";
import { toArrayRecord } from "../src/array-record.js";
import { initBackend } from "../src/backend.js";
import {
  modelFromArrayRecord,
  modelRecordLayout,
  modelToArrayRecord,
  readModelFlat,
} from "../src/model/model-array-record.js";
import { createNet, NET_PARAMETERS } from "../src/net.js";
import * as tf from "../src/tf.js";
import { WeightsError } from "../src/weights.js";
import { normals, relDiff, seedWeights } from "./helpers/layer-cases.js";

const FIXTURE = join(import.meta.dirname, "fixtures", "torch-net");
const npy = (name: string) =>
  NdArray.fromNpy(new Uint8Array(readFileSync(join(FIXTURE, `${name}.npy`))));

beforeAll(async () => {
  await initBackend({ log: null });
});

/** The seed's CIFAR CNN as a plain tf.sequential with PyTorch's module names. */
function netAsSequential(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [32, 32, 3],
        filters: 6,
        kernelSize: 5,
        activation: "relu",
        name: "conv1",
      }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 16, kernelSize: 5, activation: "relu", name: "conv2" }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 120, activation: "relu", name: "fc1" }),
      tf.layers.dense({ units: 84, activation: "relu", name: "fc2" }),
      tf.layers.dense({ units: 10, name: "fc3" }),
    ],
  });
}

function mixed(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [4, 4, 2], filters: 3, kernelSize: 3, name: "conv" }),
      tf.layers.batchNormalization({ name: "bn" }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 5, name: "fc" }),
      tf.layers.batchNormalization({ name: "bn2" }),
      tf.layers.dense({ units: 2, activation: "softmax", name: "out" }),
    ],
  });
}

function predict(model: tf.LayersModel, x: tf.Tensor): Float32Array {
  return tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync() as Float32Array);
}

describe("modelToArrayRecord / modelFromArrayRecord, Keras naming (default)", () => {
  it("keys are the layers' weight names in model.weights order, tfjs shapes, float32, non-trainable included", () => {
    const model = mixed();
    const record = modelToArrayRecord(model);
    expect([...record.keys()]).toEqual(model.weights.map((w) => w.originalName));
    expect([...record.keys()]).toContain("bn/moving_mean");
    expect([...record.keys()]).toContain("bn2/moving_variance");
    expect(record.get("conv/kernel")?.shape).toEqual([3, 3, 2, 3]);
    expect(record.get("fc/kernel")?.shape).toEqual([12, 5]);
    for (const [, a] of record) expect(a.dtype).toBe("float32");
    const values = record.get("bn/moving_variance")?.toTypedArray("float32");
    expect(Array.from(values ?? [])).toEqual([1, 1, 1]);
    model.dispose();
  });

  it("round-trips into a second model of the same architecture (tfjs renamed its variables)", () => {
    const a = mixed();
    seedWeights(a, 3);
    const b = mixed();
    expect(b.weights[0]?.name).not.toBe(a.weights[0]?.name); // e.g. conv/kernel_1
    modelFromArrayRecord(b, modelToArrayRecord(a));
    expect(Array.from(readModelFlat(b))).toEqual(Array.from(readModelFlat(a)));
    const x = tf.tensor4d(normals(2 * 32, 1), [2, 4, 4, 2]);
    expect(Array.from(predict(b, x))).toEqual(Array.from(predict(a, x)));
    x.dispose();
    a.dispose();
    b.dispose();
  });

  it("refuses missing, unknown, misshapen and non-float32 arrays, naming the key, and leaves the model unchanged", () => {
    const model = mixed();
    seedWeights(model, 5);
    const before = Array.from(readModelFlat(model));
    const good = modelToArrayRecord(model);
    const variant = (edit: (r: ArrayRecord) => void) => {
      const r = new ArrayRecord();
      for (const [k, v] of good) r.set(k, v);
      edit(r);
      return r;
    };
    const cases: [ArrayRecord, RegExp][] = [
      [variant((r) => r.delete("bn/moving_mean")), /missing array bn\/moving_mean/],
      [
        variant((r) => r.set("extra/kernel", NdArray.fromTypedArray(new Float32Array(2)))),
        /unknown array\(s\) extra\/kernel/,
      ],
      [
        variant((r) => r.set("fc/kernel", NdArray.fromTypedArray(new Float32Array(60), [5, 12]))),
        /fc\/kernel has shape \[5,12\], expected \[12,5\]/,
      ],
      [
        variant((r) => r.set("fc/bias", NdArray.fromTypedArray(new Float64Array(5)))),
        /fc\/bias is float64, expected float32/,
      ],
    ];
    for (const [record, message] of cases) {
      expect(() => modelFromArrayRecord(model, record)).toThrow(WeightsError);
      expect(() => modelFromArrayRecord(model, record)).toThrow(message);
    }
    expect(Array.from(readModelFlat(model))).toEqual(before);
    model.dispose();
  });
});

describe("PyTorch state_dict naming", () => {
  it("the Net as a tf.sequential loads PyTorch's state_dict and reproduces its logits to 1e-4", () => {
    const record = new ArrayRecord();
    for (const [name] of NET_PARAMETERS) record.set(name, npy(name));
    const model = netAsSequential();
    expect(modelRecordLayout(model, { naming: "pytorch" }).map((e) => [e.key, e.shape])).toEqual(
      NET_PARAMETERS.map(([k, s]) => [k, [...s]]),
    );
    modelFromArrayRecord(model, record, { naming: "pytorch" });
    const input = npy("input");
    const x = tf.tidy(() =>
      tf.tensor4d(input.toTypedArray("float32"), [4, 3, 32, 32]).transpose([0, 2, 3, 1]),
    );
    const expected = npy("logits").toTypedArray("float32");
    expect(relDiff(predict(model, x), expected)).toBeLessThan(1e-4);
    // And back out: the same arrays as PyTorch's, as the Net-specific toArrayRecord gives.
    const out = modelToArrayRecord(model, { naming: "pytorch" });
    const net = createNet({ seed: 1 });
    for (const [name] of NET_PARAMETERS) {
      expect(Array.from(out.get(name)?.toTypedArray("float32") ?? [])).toEqual(
        Array.from(record.get(name)?.toTypedArray("float32") ?? []),
      );
    }
    expect([...toArrayRecord(net).keys()]).toEqual([...out.keys()]);
    net.dispose();
    x.dispose();
    model.dispose();
  });

  it("maps batch norm, depthwise conv, embedding, LSTM and SimpleRNN, and round-trips exactly", () => {
    const build = () =>
      tf.sequential({
        layers: [
          tf.layers.embedding({ inputDim: 6, outputDim: 4, inputLength: 3, name: "emb" }),
          tf.layers.lstm({
            units: 3,
            returnSequences: true,
            recurrentActivation: "sigmoid",
            name: "lstm",
          }),
          tf.layers.simpleRNN({ units: 2, name: "rnn" }),
          tf.layers.batchNormalization({ name: "bn" }),
          tf.layers.dense({ units: 2, name: "fc" }),
        ],
      });
    const a = build();
    seedWeights(a, 9);
    const record = modelToArrayRecord(a, { naming: "pytorch" });
    expect([...record.keys()]).toEqual([
      "emb.weight",
      "lstm.weight_ih_l0",
      "lstm.weight_hh_l0",
      "lstm.bias_ih_l0",
      "lstm.bias_hh_l0",
      "rnn.weight_ih_l0",
      "rnn.weight_hh_l0",
      "rnn.bias_ih_l0",
      "rnn.bias_hh_l0",
      "bn.weight",
      "bn.bias",
      "bn.running_mean",
      "bn.running_var",
      "bn.num_batches_tracked",
      "fc.weight",
      "fc.bias",
    ]);
    expect(record.get("lstm.weight_ih_l0")?.shape).toEqual([12, 4]);
    expect(record.get("lstm.weight_hh_l0")?.shape).toEqual([12, 3]);
    expect(record.get("bn.num_batches_tracked")?.dtype).toBe("int64");
    const kernel = a.getLayer("lstm").getWeights()[0]?.dataSync() as Float32Array;
    const wih = record.get("lstm.weight_ih_l0")?.toTypedArray("float32") as Float32Array;
    expect(wih[1 * 4 + 2]).toBe(kernel[2 * 12 + 1]); // torch [gate·unit 1, in 2] = tfjs [in 2, 1]
    const b = build();
    modelFromArrayRecord(b, record, { naming: "pytorch" });
    expect(Array.from(readModelFlat(b))).toEqual(Array.from(readModelFlat(a)));
    // PyTorch's two LSTM biases are summed into tfjs's one.
    const split = new ArrayRecord();
    for (const [k, v] of record) split.set(k, v);
    const bih = record.get("lstm.bias_ih_l0")?.toTypedArray("float32") as Float32Array;
    split.set(
      "lstm.bias_ih_l0",
      NdArray.fromTypedArray(
        bih.map((v) => v - 0.25),
        [12],
      ),
    );
    split.set("lstm.bias_hh_l0", NdArray.fromTypedArray(new Float32Array(12).fill(0.25), [12]));
    split.delete("bn.num_batches_tracked");
    modelFromArrayRecord(b, split, { naming: "pytorch" });
    expect(relDiff(readModelFlat(b), readModelFlat(a))).toBeLessThan(1e-6);
    a.dispose();
    b.dispose();
  });

  it("depthwise filters become torch's grouped [in·mult, 1, kh, kw] and torchModules renames modules", () => {
    const model = tf.sequential({
      layers: [
        tf.layers.depthwiseConv2d({
          inputShape: [4, 4, 2],
          kernelSize: 3,
          depthMultiplier: 2,
          name: "dw",
        }),
      ],
    });
    seedWeights(model, 2);
    const record = modelToArrayRecord(model, {
      naming: "pytorch",
      torchModules: { dw: "features.0" },
    });
    expect([...record.keys()]).toEqual(["features.0.weight", "features.0.bias"]);
    expect(record.get("features.0.weight")?.shape).toEqual([4, 1, 3, 3]);
    const k = model.getLayer("dw").getWeights()[0]?.dataSync() as Float32Array; // [3,3,2,2]
    const w = record.get("features.0.weight")?.toTypedArray("float32") as Float32Array;
    // torch out channel 3 = input 1, multiplier 1; position (2, 0).
    expect(w[3 * 9 + 2 * 3 + 0]).toBe(k[((2 * 3 + 0) * 2 + 1) * 2 + 1]);
    model.dispose();
  });

  it("refuses layers without a PyTorch counterpart or with different maths", () => {
    const gru = tf.sequential({
      layers: [tf.layers.gru({ inputShape: [3, 2], units: 2, name: "g" })],
    });
    expect(() => modelToArrayRecord(gru, { naming: "pytorch" })).toThrow(/GRU.*reset gate/);
    const lstm = tf.sequential({
      layers: [tf.layers.lstm({ inputShape: [3, 2], units: 2, name: "l" })],
    });
    expect(() => modelToArrayRecord(lstm, { naming: "pytorch" })).toThrow(/hardSigmoid/);
    expect(() => modelToArrayRecord(lstm, { naming: "torch" as never })).toThrow(/naming must be/);
    gru.dispose();
    lstm.dispose();
  });
});

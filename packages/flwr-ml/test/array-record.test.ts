/**
 * Net ↔ ArrayRecord: the PyTorch fixture parsed with @flwr-ts/core's .npy
 * reader reproduces the logits; records round-trip; bad records are refused.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ArrayRecord, NdArray } from "@flwr-ts/core";
import { beforeAll, describe, expect, it } from "vitest";
import { fromArrayRecord, toArrayRecord } from "../src/array-record.js";
import { initBackend } from "../src/backend.js";
import { createNet, NET_PARAMETERS } from "../src/net.js";
import * as tf from "../src/tf.js";
import { WeightsError } from "../src/weights.js";
import { maxAbsDiff } from "./helpers/kernel-cases.js";

const FIXTURE = join(import.meta.dirname, "fixtures", "torch-net");
const npy = (name: string) =>
  NdArray.fromNpy(new Uint8Array(readFileSync(join(FIXTURE, `${name}.npy`))));

beforeAll(async () => {
  await initBackend({ log: null });
});

describe("ArrayRecord interchange", () => {
  it("loads PyTorch's state_dict as an ArrayRecord and reproduces its logits to 1e-4", () => {
    const record = new ArrayRecord();
    for (const [name] of NET_PARAMETERS) record.set(name, npy(name));
    const net = createNet({ seed: 1 });
    fromArrayRecord(net, record);
    const input = npy("input");
    const expected = npy("logits").toTypedArray("float32");
    const logits = tf.tidy(() =>
      net
        .predict(
          tf
            .tensor4d(input.toTypedArray("float32"), [4, 3, 32, 32])
            .transpose([0, 2, 3, 1]) as tf.Tensor4D,
        )
        .dataSync(),
    );
    expect(maxAbsDiff(logits, expected)).toBeLessThan(1e-4);
    // Back to a record: same keys in state_dict order, same bytes as PyTorch's arrays.
    const back = toArrayRecord(net);
    expect([...back.keys()]).toEqual(NET_PARAMETERS.map(([n]) => n));
    for (const [name, array] of back) {
      expect(array.dtype).toBe("float32");
      expect(array.shape).toEqual(record.get(name)!.shape);
      expect(
        maxAbsDiff(array.toTypedArray("float32"), record.get(name)!.toTypedArray("float32")),
      ).toBe(0);
    }
    net.dispose();
  });

  it("round-trips a model and refuses wrong dtypes and shapes", () => {
    const a = createNet({ seed: 5 });
    const b = createNet({ seed: 6 });
    fromArrayRecord(b, toArrayRecord(a));
    expect(Array.from(b.variable("fc1.weight").dataSync())).toEqual(
      Array.from(a.variable("fc1.weight").dataSync()),
    );
    const wrongType = toArrayRecord(a);
    wrongType.set("fc3.bias", NdArray.fromTypedArray(new Float64Array(10)));
    expect(() => fromArrayRecord(b, wrongType)).toThrow(/fc3.bias is float64, expected float32/);
    const wrongShape = toArrayRecord(a);
    wrongShape.set("fc3.bias", NdArray.fromTypedArray(new Float32Array(10), [2, 5]));
    expect(() => fromArrayRecord(b, wrongShape)).toThrow(WeightsError);
    a.dispose();
    b.dispose();
  });
});

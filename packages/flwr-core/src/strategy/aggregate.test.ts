import { describe, expect, it } from "vitest";
import { NdArray } from "../records/array.js";
import { ArrayRecord } from "../records/array-record.js";
import { MetricRecord } from "../records/metric-record.js";
import { RecordDict } from "../records/record-dict.js";
import {
  aggregateArrayRecords,
  aggregateMetricRecords,
  validateReplyConsistency,
} from "./aggregate.js";
import { InconsistentMessageRepliesError } from "./errors.js";

function reply(arrays: Record<string, NdArray>, metrics: Record<string, never> | MetricRecord) {
  return new RecordDict([
    ["arrays", new ArrayRecord(arrays)],
    ["metrics", metrics instanceof MetricRecord ? metrics : new MetricRecord(metrics)],
  ]);
}

describe("aggregateArrayRecords", () => {
  it("computes Σ w_i/Σw × a_i per key and keeps dtypes (hand computation)", () => {
    // weights 1 and 3 → factors 0.25 and 0.75
    const r1 = reply(
      {
        f32: NdArray.fromTypedArray(new Float32Array([1, 2, 3, 4]), [2, 2]),
        f64: NdArray.fromTypedArray(new Float64Array([0.1])),
        i32: NdArray.fromTypedArray(new Int32Array([1, 2, -7])),
        u8: NdArray.fromTypedArray(new Uint8Array([0, 255])),
        i64: NdArray.fromTypedArray(new BigInt64Array([10n, -10n])),
      },
      new MetricRecord({ "num-examples": 1n }),
    );
    const r2 = reply(
      {
        f32: NdArray.fromTypedArray(new Float32Array([5, 6, 7, 8]), [2, 2]),
        f64: NdArray.fromTypedArray(new Float64Array([0.3])),
        i32: NdArray.fromTypedArray(new Int32Array([2, 3, -8])),
        u8: NdArray.fromTypedArray(new Uint8Array([2, 255])),
        i64: NdArray.fromTypedArray(new BigInt64Array([20n, 21n])),
      },
      new MetricRecord({ "num-examples": 3n }),
    );
    const out = aggregateArrayRecords([r1, r2], "num-examples");
    expect([...out.keys()]).toEqual(["f32", "f64", "i32", "u8", "i64"]);
    const f32 = out.get("f32")!;
    expect(f32.dtype).toBe("float32");
    expect(f32.shape).toEqual([2, 2]);
    expect([...f32.toTypedArray("float32")]).toEqual([4, 5, 6, 7]);
    expect(out.get("f64")!.toTypedArray("float64")[0]).toBeCloseTo(0.25 * 0.1 + 0.75 * 0.3, 15);
    // 0.25*1+0.75*2 = 1.75 → 2; 0.25*2+0.75*3 = 2.75 → 3; 0.25*-7+0.75*-8 = -7.75 → -8
    expect([...out.get("i32")!.toTypedArray("int32")]).toEqual([2, 3, -8]);
    // 0.25*0+0.75*2 = 1.5 → 2; 255 stays 255
    expect([...out.get("u8")!.toTypedArray("uint8")]).toEqual([2, 255]);
    // 2.5+15 = 17.5 → 18; -2.5+15.75 = 13.25 → 13
    expect([...out.get("i64")!.toTypedArray("int64")]).toEqual([18n, 13n]);
  });

  it("accepts float weights and float16 arrays", () => {
    const half = (bits: number[]) =>
      NdArray.fromTypedArray(new Uint16Array(bits), undefined, "float16");
    // float16 1.0 = 0x3c00, 3.0 = 0x4200 → mean (equal weights) 2.0 = 0x4000
    const out = aggregateArrayRecords(
      [
        reply({ h: half([0x3c00]) }, new MetricRecord({ w: 0.5 })),
        reply({ h: half([0x4200]) }, new MetricRecord({ w: 0.5 })),
      ],
      "w",
    );
    expect([...out.get("h")!.toTypedArray("float16")]).toEqual([0x4000]);
  });

  it("rejects arrays that disagree in shape or dtype, and zero total weight", () => {
    const a = reply(
      { x: NdArray.fromTypedArray(new Float32Array([1, 2])) },
      new MetricRecord({ n: 1n }),
    );
    const b = reply(
      { x: NdArray.fromTypedArray(new Float32Array([1, 2, 3])) },
      new MetricRecord({ n: 1n }),
    );
    const c = reply(
      { x: NdArray.fromTypedArray(new Float64Array([1, 2])) },
      new MetricRecord({ n: 1n }),
    );
    expect(() => aggregateArrayRecords([a, b], "n")).toThrow(InconsistentMessageRepliesError);
    expect(() => aggregateArrayRecords([a, c], "n")).toThrow(
      /float32\(2,\) in one reply and float64\(2,\)/,
    );
    const z = reply(
      { x: NdArray.fromTypedArray(new Float32Array([1, 2])) },
      new MetricRecord({ n: 0n }),
    );
    expect(() => aggregateArrayRecords([z, z], "n")).toThrow(/sum to 0/);
  });
});

describe("aggregateMetricRecords", () => {
  it("weighted mean as floats, lists element-wise, without the weight key", () => {
    const out = aggregateMetricRecords(
      [
        new RecordDict({
          m: new MetricRecord({ "num-examples": 10n, loss: 1.0, acc: [0.5, 1.5], k: 4n }),
        }),
        new RecordDict({
          m: new MetricRecord({ "num-examples": 30n, loss: 2.0, acc: [1.0, 3.5], k: 8n }),
        }),
      ],
      "num-examples",
    );
    expect([...out.keys()]).toEqual(["loss", "acc", "k"]);
    expect(out.get("loss")).toBe(0.25 * 1 + 0.75 * 2);
    expect(out.get("acc")).toEqual([0.25 * 0.5 + 0.75 * 1.0, 0.25 * 1.5 + 0.75 * 3.5]);
    expect(out.get("k")).toBe(7);
    expect(typeof out.get("k")).toBe("number");
  });
});

describe("validateReplyConsistency", () => {
  const ok = (n: bigint, extra: Record<string, number> = {}) =>
    new RecordDict([
      ["arrays", new ArrayRecord({ w: NdArray.fromTypedArray(new Float32Array([1])) })],
      ["metrics", new MetricRecord({ "num-examples": n, ...extra })],
    ]);

  it("accepts consistent replies", () => {
    expect(() => validateReplyConsistency([ok(1n), ok(2n)], "num-examples", true)).not.toThrow();
  });

  it("rejects the cases Flower rejects, with Flower's reasons", () => {
    const twoArrays = ok(1n);
    twoArrays.set("more", new ArrayRecord());
    expect(() => validateReplyConsistency([ok(1n), twoArrays], "num-examples", true)).toThrow(
      "Expected exactly one ArrayRecord in replies. Skipping aggregation.",
    );
    // not checked for evaluate replies
    expect(() =>
      validateReplyConsistency([ok(1n), twoArrays], "num-examples", false),
    ).not.toThrow();
    const otherKeys = new RecordDict([
      ["arrays", new ArrayRecord({ v: NdArray.fromTypedArray(new Float32Array([1])) })],
      ["metrics", new MetricRecord({ "num-examples": 1n })],
    ]);
    expect(() => validateReplyConsistency([ok(1n), otherKeys], "num-examples", true)).toThrow(
      /All ArrayRecords must have the same keys/,
    );
    expect(() =>
      validateReplyConsistency([ok(1n), ok(1n, { loss: 1 })], "num-examples", true),
    ).toThrow(/All MetricRecords must have the same keys/);
    expect(() => validateReplyConsistency([ok(1n)], "weight", true)).toThrow(
      "Missing required key `weight` in the MetricRecord of reply messages.",
    );
    const listWeight = new RecordDict({ m: new MetricRecord({ w: [1, 2] }) });
    expect(() => validateReplyConsistency([listWeight], "w", false)).toThrow(
      /but a list was found/,
    );
  });
});

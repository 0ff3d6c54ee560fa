import { describe, expect, test } from "vitest";
import type { FloatArrays } from "../strategy/float-arrays.js";
import {
  addGaussianNoiseInPlace,
  clipInPlace,
  clipModelUpdate,
  computeAdaptiveNoiseParams,
  computeStdv,
  getNorm,
  localDpStdv,
  secureNormalSource,
  seededNormalSource,
} from "./differential-privacy.js";

function arrays(...lists: number[][]): FloatArrays {
  return new Map(
    lists.map((l, i) => [
      `a${i}`,
      { dtype: "float64", shape: [l.length], values: Float64Array.from(l) },
    ]),
  );
}
const flat = (a: FloatArrays) => [...a.values()].flatMap((x) => [...x.values]);

describe("differential-privacy arithmetic (Flower's differential_privacy.py)", () => {
  test("norm, flat clipping and the norm bit", () => {
    const a = arrays([3, 0], [0, 4]);
    expect(getNorm(a)).toBe(5);
    expect(clipInPlace(a, 10)).toBe(false);
    expect(flat(a)).toEqual([3, 0, 0, 4]);
    expect(clipInPlace(a, 2.5)).toBe(true);
    expect(flat(a)).toEqual([1.5, 0, 0, 2]);
  });

  test("clipModelUpdate clips the update, not the parameters", () => {
    const ref = arrays([10, 10]);
    const params = arrays([13, 14]); // update (3, 4), norm 5
    expect(clipModelUpdate(params, ref, 1)).toBe(true);
    expect(flat(params).map((x) => Number(x.toFixed(12)))).toEqual([10.6, 10.8]);
    expect(() => clipModelUpdate(arrays([1, 2, 3]), ref, 1)).toThrow(/3 elements/);
  });

  test("deviations: central (Flower's compute_stdv) and local DP", () => {
    expect(computeStdv(1.3, 0.7, 4)).toBeCloseTo(0.2275, 12);
    expect(localDpStdv(1, 1, 1e-5)).toBeCloseTo(Math.sqrt(2 * Math.log(125000)), 12);
  });

  test.each([
    ["seeded", seededNormalSource(3)],
    ["secure", secureNormalSource()],
  ])("%s Gaussian noise has the requested mean and deviation", (_name, normal) => {
    const a = arrays(new Array(200_000).fill(1));
    addGaussianNoiseInPlace(a, 0.5, normal);
    const v = flat(a);
    const mean = v.reduce((s, x) => s + x, 0) / v.length;
    const sd = Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length);
    expect(mean).toBeGreaterThan(0.995);
    expect(mean).toBeLessThan(1.005);
    expect(sd).toBeGreaterThan(0.495);
    expect(sd).toBeLessThan(0.505);
  });

  test("seeded noise repeats, secure noise does not", () => {
    const draw = (n: () => number) => Array.from({ length: 5 }, n);
    expect(draw(seededNormalSource(9))).toEqual(draw(seededNormalSource(9)));
    expect(draw(seededNormalSource(9))).not.toEqual(draw(seededNormalSource(10)));
    expect(draw(secureNormalSource())).not.toEqual(draw(secureNormalSource()));
  });

  test("adaptive noise parameters, Flower's defaults and its error", () => {
    const p = computeAdaptiveNoiseParams(1, 100, undefined);
    expect(p.clippedCountStddev).toBe(5);
    expect(p.noiseMultiplier).toBeCloseTo((1 - 0.01) ** -0.5, 12);
    expect(p.warning).toBeUndefined();
    expect(computeAdaptiveNoiseParams(0, 10, undefined)).toEqual({
      clippedCountStddev: 0,
      noiseMultiplier: 0,
    });
    expect(() => computeAdaptiveNoiseParams(1, 10, undefined)).toThrow(
      /`clipped_count_stddev` is set to `num_sampled_clients`\/20 by default/,
    );
    expect(computeAdaptiveNoiseParams(1, 10, 0.55).warning).toMatch(/significant amount of noise/);
  });
});

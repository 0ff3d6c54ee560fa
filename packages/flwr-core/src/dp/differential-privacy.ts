/**
 * Differential-privacy arithmetic, as Flower's `flwr/common/differential_privacy.py` computes it
 * (papers: https://arxiv.org/abs/1710.06963 for fixed clipping and noise, and
 * https://arxiv.org/abs/1905.03871 for adaptive clipping): the L2 norm of a model update, its
 * flat clipping, the noise standard deviation, and Gaussian noise.
 *
 * Arithmetic runs in float64 over {@link FloatArrays} and is written back in each array's dtype
 * (numpy computes float32 arrays in float32: results agree to float32 rounding).
 *
 * Noise comes from a {@link NormalSource}. The default draws its uniforms from
 * `crypto.getRandomValues` (a DP mechanism's noise should not be predictable; Python Flower uses
 * numpy's global Mersenne Twister). {@link seededNormalSource} gives reproducible noise for tests
 * and experiments only. Box–Muller here rather than a library: it is six lines, and the uniform
 * source is the part that matters.
 */
import { webcrypto } from "node:crypto";
import type { FloatArrays } from "../strategy/float-arrays.js";

/** A source of standard normal samples (mean 0, standard deviation 1). */
export type NormalSource = () => number;

/** A source of uniform samples in (0, 1]. */
type UniformSource = () => number;

function boxMuller(uniform: UniformSource): NormalSource {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    const u = uniform();
    const v = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

/** Standard normal samples from the operating system's CSPRNG (the default). */
export function secureNormalSource(): NormalSource {
  const buffer = new Uint32Array(1024);
  let next = buffer.length;
  return boxMuller(() => {
    if (next === buffer.length) {
      webcrypto.getRandomValues(buffer);
      next = 0;
    }
    // 32 random bits → (0, 1]: never 0, so the logarithm stays finite.
    return (buffer[next++]! + 1) / 4294967296;
  });
}

/**
 * Reproducible standard normal samples from `seed` (mulberry32 + Box–Muller). For tests and
 * experiments only: predictable noise gives no privacy.
 */
export function seededNormalSource(seed: number): NormalSource {
  let a = seed >>> 0;
  return boxMuller(() => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 1) / 4294967296;
  });
}

/** The L2 norm of all the arrays' elements together (Flower's `get_norm`). */
export function getNorm(arrays: FloatArrays): number {
  let sum = 0;
  for (const a of arrays.values()) for (const v of a.values) sum += v * v;
  return Math.sqrt(sum);
}

/**
 * Scales every array by `min(1, clippingNorm / norm)` in place (Flower's `clip_inputs_inplace`,
 * FlatClip).
 * @returns true when the update was scaled down (Flower's `norm_bit`).
 */
export function clipInPlace(arrays: FloatArrays, clippingNorm: number): boolean {
  const scale = Math.min(1, clippingNorm / getNorm(arrays));
  for (const a of arrays.values()) for (let i = 0; i < a.values.length; i++) a.values[i]! *= scale;
  return scale < 1;
}

/**
 * Replaces `params` by `reference + clip(params - reference)` in place (Flower's
 * `compute_clip_model_update` / `compute_adaptive_clip_model_update`).
 * @returns the norm bit: true when the update was clipped.
 * @throws RangeError when the two do not have the same arrays and sizes.
 */
export function clipModelUpdate(
  params: FloatArrays,
  reference: FloatArrays,
  clippingNorm: number,
): boolean {
  if (params.size !== reference.size)
    throw new RangeError(
      `the update has ${params.size} arrays and the reference ${reference.size}; they must match`,
    );
  const refs = [...reference.values()];
  let i = 0;
  for (const [name, p] of params) {
    const r = refs[i++]!;
    if (r.values.length !== p.values.length)
      throw new RangeError(
        `array '${name}' has ${p.values.length} elements in the update and ${r.values.length} in the reference`,
      );
    for (let k = 0; k < p.values.length; k++) p.values[k]! -= r.values[k]!;
  }
  const clipped = clipInPlace(params, clippingNorm);
  i = 0;
  for (const p of params.values()) {
    const r = refs[i++]!;
    for (let k = 0; k < p.values.length; k++) p.values[k]! += r.values[k]!;
  }
  return clipped;
}

/** The noise standard deviation `noise_multiplier × clipping_norm / num_sampled_clients`. */
export function computeStdv(
  noiseMultiplier: number,
  clippingNorm: number,
  numSampledClients: number,
): number {
  return (noiseMultiplier * clippingNorm) / numSampledClients;
}

/** Adds N(0, stdDev²) noise to every element in place (Flower's `add_gaussian_noise_inplace`). */
export function addGaussianNoiseInPlace(
  arrays: FloatArrays,
  stdDev: number,
  normal: NormalSource,
): void {
  for (const a of arrays.values())
    for (let i = 0; i < a.values.length; i++) a.values[i]! += stdDev * normal();
}

/** The local-DP Gaussian mechanism's deviation `sensitivity · √(2 ln(1.25/δ)) / ε`. */
export function localDpStdv(sensitivity: number, epsilon: number, delta: number): number {
  return (sensitivity * Math.sqrt(2 * Math.log(1.25 / delta))) / epsilon;
}

/** What {@link computeAdaptiveNoiseParams} returns. */
export interface AdaptiveNoiseParams {
  /** The clipped-count noise deviation actually used. */
  readonly clippedCountStddev: number;
  /** The noise multiplier of the model update after the count's share of the budget. */
  readonly noiseMultiplier: number;
  /** Flower's warning when the added noise is large, or undefined. */
  readonly warning?: string | undefined;
}

/**
 * The noise parameters of adaptive clipping (Flower's `compute_adaptive_noise_params`).
 * @throws RangeError with Flower's message when `clippedCountStddev` is too small.
 */
export function computeAdaptiveNoiseParams(
  noiseMultiplier: number,
  numSampledClients: number,
  clippedCountStddev: number | undefined,
  formatNumber: (x: number) => string = String,
): AdaptiveNoiseParams {
  if (noiseMultiplier > 0) {
    const stddev = clippedCountStddev ?? numSampledClients / 20;
    if (noiseMultiplier >= 2 * stddev)
      throw new RangeError(
        "If not specified, `clipped_count_stddev` is set to `num_sampled_clients`/20 by default. " +
          `This value (${formatNumber(numSampledClients / 20)}) is too low to achieve the desired ` +
          `effective \`noise_multiplier\` (${formatNumber(noiseMultiplier)}). Consider increasing ` +
          "`clipped_count_stddev` or decreasing `noise_multiplier`.",
      );
    const value = (noiseMultiplier ** -2 - (2 * stddev) ** -2) ** -0.5;
    const addingNoise = value / noiseMultiplier;
    return {
      clippedCountStddev: stddev,
      noiseMultiplier: value,
      warning:
        addingNoise >= 2
          ? `A significant amount of noise (${formatNumber(addingNoise)}) has to be added. Consider increasing \`clipped_count_stddev\` or \`num_sampled_clients\`.`
          : undefined,
    };
  }
  return { clippedCountStddev: clippedCountStddev ?? 0, noiseMultiplier: 0 };
}

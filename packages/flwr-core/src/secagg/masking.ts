/**
 * The client side of SecAgg+'s "collect masked vectors" stage (Flower 1.29's
 * `_collect_masked_vectors`): weight the update by `round(num_examples / max_weight ·
 * target_range)`, quantise it, prepend the quantised weight, add the private mask (seeded by the
 * node's random seed) and the pairwise masks (seeded by the ECDH keys with each neighbour,
 * added when this node's id is larger, subtracted otherwise), all mod `mod_range`.
 */
import { NdArray } from "../records/array.js";
import { deriveSharedKey } from "./key-agreement.js";
import { pseudoRandGen } from "./prg.js";
import { addMod, mod, quantize, roundHalfEven } from "./quantization.js";

/** What the client needs to mask its update. */
export interface MaskingInput {
  /** This node's id. */
  nodeId: bigint;
  /** The update's arrays: elements (C order) and shapes. */
  arrays: readonly { values: ArrayLike<number>; shape: readonly number[] }[];
  /** Number of training examples (the weight). */
  numExamples: number;
  /** Protocol parameters from the setup stage. */
  clippingRange: number;
  targetRange: number;
  modRange: number;
  maxWeight: number;
  /** Seed of the private mask. */
  privateSeed: Uint8Array;
  /** This node's first private key (PEM). */
  sk1: Uint8Array;
  /** First public keys (PEM) of the neighbours whose shares arrived, in order. */
  neighbours: readonly { nodeId: bigint; pk1: Uint8Array }[];
  /** Random source of the stochastic rounding. */
  random?: () => number;
}

/** The masked vectors, as the int64 `.npy` arrays Flower uploads (weight first). */
export function maskUpdate(input: MaskingInput): {
  vectors: Float64Array[];
  npy: Uint8Array[];
  quantizedWeight: number;
} {
  const ratio = input.numExamples / input.maxWeight;
  const qRatio = roundHalfEven(ratio * input.targetRange);
  const dqRatio = qRatio / input.targetRange;
  const vectors: Float64Array[] = [Float64Array.of(qRatio)];
  const shapes: (readonly number[])[] = [[1]];
  for (const a of input.arrays) {
    const scaled = Float64Array.from(a.values, (v) => v * dqRatio);
    vectors.push(quantize(scaled, input.clippingRange, input.targetRange, input.random));
    shapes.push(a.shape);
  }
  const m = input.modRange;
  const privateMask = pseudoRandGen(input.privateSeed, m, shapes);
  vectors.forEach((v, i) => {
    addMod(v, privateMask[i]!, m);
  });
  for (const nb of input.neighbours) {
    const key = deriveSharedKey(input.sk1, nb.pk1);
    const pairwise = pseudoRandGen(key, m, shapes);
    const sign = input.nodeId > nb.nodeId ? 1 : -1;
    vectors.forEach((v, i) => {
      addMod(v, pairwise[i]!, m, sign);
    });
  }
  for (const v of vectors) for (let i = 0; i < v.length; i++) v[i] = mod(v[i]!, m);
  const npy = vectors.map(
    (v, i) =>
      NdArray.fromTypedArray(
        BigInt64Array.from(v, (x) => BigInt(x)),
        shapes[i],
        "int64",
      ).data,
  );
  return { vectors, npy, quantizedWeight: qRatio };
}

/**
 * The SecAgg+ mask generator (Flower's `pseudo_rand_gen`): a seed of 4k bytes is folded into a
 * uint32 by XOR of its little-endian 32-bit words, then numpy's legacy `RandomState(seed32)`
 * draws `randint(0, num_range - 1)` for each shape in turn. Bit-exact with numpy (see
 * {@link Mt19937}); the masks are integer-valued `Float64Array`s (exact below 2^53).
 */
import { fillRandint, Mt19937 } from "./mt19937.js";

/** Folds a seed into numpy's uint32 seed as Flower does (XOR of little-endian words). */
export function foldSeed(seed: Uint8Array): number {
  if (seed.length % 4 !== 0) {
    throw new RangeError(`a mask seed must have a multiple of 4 bytes, got ${seed.length}`);
  }
  const view = new DataView(seed.buffer, seed.byteOffset, seed.byteLength);
  let s = 0;
  for (let i = 0; i < seed.length; i += 4) s ^= view.getUint32(i, true);
  return s >>> 0;
}

/** Number of elements of a shape (1 for a 0-d shape). */
export function shapeElements(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Expands `seed` into one mask per shape, values in [0, numRange - 2] (Flower draws
 * `randint(0, num_range - 1)`, whose upper bound is exclusive).
 */
export function pseudoRandGen(
  seed: Uint8Array,
  numRange: number,
  shapes: readonly (readonly number[])[],
): Float64Array[] {
  const gen = new Mt19937(foldSeed(seed));
  return shapes.map((shape) => {
    const out = new Float64Array(shapeElements(shape));
    fillRandint(gen, 0, numRange - 1, out);
    return out;
  });
}

/**
 * SecAgg+ quantisation (Flower's `quantization.quantize`/`dequantize`) and the modular vector
 * arithmetic of the masks. Values are integer-valued `Float64Array`s (exact below 2^53; inputs
 * are reduced after every step). Stochastic rounding draws from `Math.random`-like `random`
 * (Flower uses numpy's global generator), so quantised values match Flower's in distribution,
 * not bit for bit; nothing on the wire depends on them being equal.
 */

/**
 * Clips to [-clippingRange, clippingRange], maps onto [0, targetRange] and rounds stochastically
 * (up with probability equal to the fractional part).
 */
export function quantize(
  values: ArrayLike<number>,
  clippingRange: number,
  targetRange: number,
  random: () => number = Math.random,
): Float64Array {
  const quantizer = targetRange / (2 * clippingRange);
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = Math.min(Math.max(values[i]!, -clippingRange), clippingRange);
    const pre = (v + clippingRange) * quantizer;
    let q = Math.ceil(pre);
    if (random() < q - pre) q -= 1;
    out[i] = q;
  }
  return out;
}

/** Maps quantised integers back: q · 2c / targetRange − c. */
export function dequantize(
  values: ArrayLike<number>,
  clippingRange: number,
  targetRange: number,
): Float64Array {
  const quantizer = (2 * clippingRange) / targetRange;
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i]! * quantizer - clippingRange;
  return out;
}

/** The non-negative residue of an integer-valued number. */
export function mod(x: number, m: number): number {
  const r = x % m;
  return r < 0 ? r + m : r;
}

/** acc ← (acc + sign · v) mod m, elementwise, in place. */
export function addMod(acc: Float64Array, v: ArrayLike<number>, m: number, sign: 1 | -1 = 1): void {
  if (acc.length !== v.length)
    throw new RangeError(`vector lengths differ: ${acc.length} vs ${v.length}`);
  for (let i = 0; i < acc.length; i++) acc[i] = mod(acc[i]! + sign * v[i]!, m);
}

/** Python's `round()` for a float: to the nearest integer, ties to even. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

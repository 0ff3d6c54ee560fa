/**
 * Layout conversions between tfjs and PyTorch weight tensors, row-major
 * float32: transposes of 2-D matrices, conv filters HWIO ↔ OIHW (and the 1-D
 * and depthwise variants), and the NHWC → NCHW reordering of a dense layer's
 * inputs after a `Flatten`.
 */

/** tfjs `[in, out]` → torch `[out, in]` (a transpose; also its own inverse with swapped sizes). */
export function transpose2d(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c] as number;
  return out;
}

/**
 * Moves the last axis of a row-major tensor of shape `[...spatial, a, b]` to
 * the front and the second last next: `[s…, a, b]` → `[b, a, s…]`, i.e. HWIO →
 * OIHW (`spatial` = [h, w], a = in, b = out) or WIO → OIW for 1-D filters.
 */
export function spatialLastToFirst(
  values: Float32Array,
  spatial: number,
  a: number,
  b: number,
): Float32Array {
  const out = new Float32Array(values.length);
  for (let s = 0; s < spatial; s++)
    for (let i = 0; i < a; i++)
      for (let o = 0; o < b; o++)
        out[(o * a + i) * spatial + s] = values[(s * a + i) * b + o] as number;
  return out;
}

/** Inverse of {@link spatialLastToFirst}: `[b, a, s…]` → `[s…, a, b]`. */
export function spatialFirstToLast(
  values: Float32Array,
  spatial: number,
  a: number,
  b: number,
): Float32Array {
  const out = new Float32Array(values.length);
  for (let s = 0; s < spatial; s++)
    for (let i = 0; i < a; i++)
      for (let o = 0; o < b; o++)
        out[(s * a + i) * b + o] = values[(o * a + i) * spatial + s] as number;
  return out;
}

/**
 * For a dense kernel whose inputs are the NHWC flatten of `[h, w, c]`: the
 * row (tfjs input index, NHWC order) of each torch input index j (NCHW order).
 */
export function nhwcRowOfNchw(h: number, w: number, c: number): Uint32Array {
  const rows = new Uint32Array(h * w * c);
  for (let j = 0; j < rows.length; j++) {
    const ch = Math.floor(j / (h * w));
    const hw = j % (h * w);
    rows[j] = hw * c + ch;
  }
  return rows;
}

/** tfjs dense kernel `[in, out]` → torch `[out, in]`, torch input j read from tfjs row `rows[j]`. */
export function denseToTorch(
  values: Float32Array,
  nIn: number,
  nOut: number,
  rows?: Uint32Array,
): Float32Array {
  if (!rows) return transpose2d(values, nIn, nOut);
  const out = new Float32Array(values.length);
  for (let o = 0; o < nOut; o++)
    for (let j = 0; j < nIn; j++)
      out[o * nIn + j] = values[(rows[j] as number) * nOut + o] as number;
  return out;
}

/** Inverse of {@link denseToTorch}. */
export function denseFromTorch(
  values: Float32Array,
  nIn: number,
  nOut: number,
  rows?: Uint32Array,
): Float32Array {
  if (!rows) return transpose2d(values, nOut, nIn);
  const out = new Float32Array(values.length);
  for (let o = 0; o < nOut; o++)
    for (let j = 0; j < nIn; j++)
      out[(rows[j] as number) * nOut + o] = values[o * nIn + j] as number;
  return out;
}

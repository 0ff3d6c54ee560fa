/**
 * MT19937 (Matsumoto & Nishimura), seeded like numpy's legacy `np.random.RandomState(int)`
 * (`init_genrand`), plus numpy's legacy bounded-integer sampling (`randint` with masked
 * rejection). Hand-written because SecAgg+ masks must be bit-exact with numpy's: Flower expands
 * every mask seed with `RandomState(seed32).randint(0, mod_range - 1, shape, dtype=int64)`.
 */

const N = 624;
const M = 397;

/** A Mersenne Twister generator with numpy `RandomState`'s integer seeding. */
export class Mt19937 {
  private readonly mt = new Uint32Array(N);
  private index = N;

  /** @param seed - a uint32 seed (numpy's `RandomState(seed)` for an int seed). */
  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`MT19937 seed must be a uint32, got ${seed}`);
    }
    const mt = this.mt;
    mt[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1]! ^ (mt[i - 1]! >>> 30);
      // 1812433253 * prev + i, mod 2^32 (split to stay exact in doubles)
      mt[i] =
        (((((prev & 0xffff0000) >>> 16) * 1812433253) << 16) + (prev & 0xffff) * 1812433253 + i) >>>
        0;
    }
  }

  private twist(): void {
    const mt = this.mt;
    for (let i = 0; i < N; i++) {
      const y = (mt[i]! & 0x80000000) | (mt[(i + 1) % N]! & 0x7fffffff);
      let v = mt[(i + M) % N]! ^ (y >>> 1);
      if (y & 1) v ^= 0x9908b0df;
      mt[i] = v >>> 0;
    }
    this.index = 0;
  }

  /** The next 32-bit output (numpy's `genrand_int32`). */
  nextUint32(): number {
    if (this.index >= N) this.twist();
    let y = this.mt[this.index++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }
}

/**
 * Fills `out` with integers uniform in [low, high) exactly as numpy's legacy
 * `RandomState.randint(low, high, size, dtype=np.int64)` does for a range below 2^32
 * (`random_bounded_uint64_fill` with masked rejection on 32-bit draws).
 * @throws RangeError when the range is empty or not below 2^32 + 1.
 */
export function fillRandint(gen: Mt19937, low: number, high: number, out: Float64Array): void {
  const rng = high - low - 1;
  if (!Number.isSafeInteger(low) || !Number.isSafeInteger(high) || rng < 0) {
    throw new RangeError(`randint needs integers low < high, got [${low}, ${high})`);
  }
  if (rng > 0xffffffff) {
    throw new RangeError(
      `randint ranges of 2^32 values or more are not supported (got ${rng + 1})`,
    );
  }
  if (rng === 0) {
    out.fill(low);
    return;
  }
  if (rng === 0xffffffff) {
    for (let i = 0; i < out.length; i++) out[i] = low + gen.nextUint32();
    return;
  }
  // smallest all-ones mask >= rng
  let mask = rng;
  mask |= mask >>> 1;
  mask |= mask >>> 2;
  mask |= mask >>> 4;
  mask |= mask >>> 8;
  mask |= mask >>> 16;
  mask >>>= 0;
  for (let i = 0; i < out.length; i++) {
    let v: number;
    do v = (gen.nextUint32() & mask) >>> 0;
    while (v > rng);
    out[i] = low + v;
  }
}

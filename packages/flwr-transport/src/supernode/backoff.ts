/**
 * Exponential backoff with jitter, a cap, a maximum number of retries and a maximum total
 * wait time — the schedule of Python Flower's `RetryInvoker` (`exponential` wait generator,
 * `full_jitter`, `max_tries`, `max_time`), as one small reusable class.
 *
 * Deterministic under test: inject `random` and `now`.
 */

/** How a computed delay is randomized. */
export type Jitter =
  /** Uniform in [0, delay] (AWS "full jitter"; Flower's default). */
  | "full"
  /** No randomization. */
  | "none"
  /** Uniform in [delay·(1−ratio), delay·(1+ratio)] (Flower's object pulls use ratio 0.2). */
  | { readonly ratio: number };

/** Options of {@link Backoff}. */
export interface BackoffOptions {
  /** First delay before jitter, ms (default 1000). */
  readonly initialDelayMs?: number;
  /** Factor applied after each retry (default 2). */
  readonly multiplier?: number;
  /** Cap on the delay before jitter, ms (default 20000, Flower's `MAX_RETRY_DELAY`). */
  readonly maxDelayMs?: number;
  /** Retries allowed after the first attempt; undefined = unlimited (Flower's `--max-retries`). */
  readonly maxRetries?: number | undefined;
  /** Total time after which no retry starts, ms; undefined = unlimited (Flower's `--max-wait-time`). */
  readonly maxWaitTimeMs?: number | undefined;
  /** Jitter mode (default "full"). */
  readonly jitter?: Jitter;
  /** Uniform random number in [0, 1) (default `Math.random`). */
  readonly random?: () => number;
  /** Monotonic clock in ms (default `performance.now`). */
  readonly now?: () => number;
}

function checkNonNegative(name: string, v: number | undefined): void {
  if (v !== undefined && !(Number.isFinite(v) && v >= 0)) {
    throw new RangeError(`${name} must be a finite number >= 0, got ${String(v)}`);
  }
}

/**
 * The retry schedule of one operation: call {@link next} after each failed attempt to get the
 * delay before the next attempt, or `undefined` when it is time to give up; {@link reset} after
 * a success.
 *
 * @example
 * const backoff = new Backoff({ maxRetries: 5 });
 * for (;;) {
 *   try { return await call(); } catch (e) {
 *     const delay = backoff.next();
 *     if (delay === undefined) throw e;
 *     await sleep(delay);
 *   }
 * }
 */
export class Backoff {
  private readonly initialDelayMs: number;
  private readonly multiplier: number;
  private readonly maxDelayMs: number;
  private readonly maxRetries: number | undefined;
  private readonly maxWaitTimeMs: number | undefined;
  private readonly jitter: Jitter;
  private readonly random: () => number;
  private readonly now: () => number;
  private baseDelay: number;
  private startedAt: number | undefined;
  private retries = 0;

  /** @throws RangeError for negative or non-finite options, or a multiplier below 1. */
  constructor(options: BackoffOptions = {}) {
    this.initialDelayMs = options.initialDelayMs ?? 1000;
    this.multiplier = options.multiplier ?? 2;
    this.maxDelayMs = options.maxDelayMs ?? 20_000;
    this.maxRetries = options.maxRetries;
    this.maxWaitTimeMs = options.maxWaitTimeMs;
    this.jitter = options.jitter ?? "full";
    this.random = options.random ?? Math.random;
    this.now = options.now ?? (() => performance.now());
    checkNonNegative("initialDelayMs", this.initialDelayMs);
    checkNonNegative("maxDelayMs", this.maxDelayMs);
    checkNonNegative("maxWaitTimeMs", this.maxWaitTimeMs);
    if (!(Number.isFinite(this.multiplier) && this.multiplier >= 1)) {
      throw new RangeError(`multiplier must be a finite number >= 1, got ${this.multiplier}`);
    }
    if (
      this.maxRetries !== undefined &&
      !(Number.isInteger(this.maxRetries) && this.maxRetries >= 0)
    ) {
      throw new RangeError(`maxRetries must be an integer >= 0, got ${String(this.maxRetries)}`);
    }
    if (typeof this.jitter === "object") {
      const r = this.jitter.ratio;
      if (!(Number.isFinite(r) && r >= 0 && r <= 1)) {
        throw new RangeError(`jitter ratio must be between 0 and 1, got ${String(r)}`);
      }
    }
    this.baseDelay = Math.min(this.initialDelayMs, this.maxDelayMs);
  }

  /** Retries granted since the last {@link reset}. */
  get attempts(): number {
    return this.retries;
  }

  /** Milliseconds since the first failure after the last {@link reset} (0 before it). */
  get elapsedMs(): number {
    return this.startedAt === undefined ? 0 : this.now() - this.startedAt;
  }

  /**
   * Records a failed attempt.
   * @returns the delay in ms before the next attempt, or `undefined` when the retries or the
   *   total wait time are used up (give up and surface the error).
   */
  next(): number | undefined {
    if (this.startedAt === undefined) this.startedAt = this.now();
    const elapsed = this.now() - this.startedAt;
    if (this.maxRetries !== undefined && this.retries >= this.maxRetries) return undefined;
    if (this.maxWaitTimeMs !== undefined && elapsed >= this.maxWaitTimeMs) return undefined;
    let delay = this.applyJitter(this.baseDelay);
    if (this.maxWaitTimeMs !== undefined) delay = Math.min(delay, this.maxWaitTimeMs - elapsed);
    this.baseDelay = Math.min(this.baseDelay * this.multiplier, this.maxDelayMs);
    this.retries += 1;
    return delay;
  }

  /** Starts over after a success: the next failure waits the initial delay again. */
  reset(): void {
    this.baseDelay = Math.min(this.initialDelayMs, this.maxDelayMs);
    this.startedAt = undefined;
    this.retries = 0;
  }

  private applyJitter(delay: number): number {
    if (this.jitter === "none") return delay;
    if (this.jitter === "full") return this.random() * delay;
    const r = this.jitter.ratio;
    return delay * (1 - r + 2 * r * this.random());
  }
}

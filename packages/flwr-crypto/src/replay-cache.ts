/**
 * Replay protection for signed requests: remembers each (public key,
 * timestamp) pair until the verifier's window has passed for it, so the same
 * signed metadata is accepted at most once. Flower itself has no replay
 * cache; a flwr-ts SuperLink adds one on top of the window check.
 *
 * Memory is bounded: entries expire when their timestamp leaves the window
 * (timestamp + 305 s), expired entries are swept on every insert in O(1)
 * amortized, and when `maxEntries` is reached the oldest entry is dropped
 * (counted in {@link ReplayCache.forcedEvictions}; size the cache for peak
 * request rate × 310 s to keep that at zero).
 *
 * Each entry is small because the cache holds one per signed request in the window (about
 * 130,000 on a SuperLink with 6 busy SuperNodes): the key is one flat 16-character string, the
 * first 16 bytes of SHA-256 over the public key and the timestamp text, and the value is the
 * expiry in whole seconds (rounded up), a small integer V8 stores inline: 63 bytes of V8 heap per
 * entry, Map table included, where a concatenated `key|timestamp` string and a boxed millisecond
 * double took 200 (`npx tsx bench/replay-cache-memory.ts`; found in heap snapshots of
 * `bench/soak.ts`, where this cache was all the SuperLink heap growth, issue #13).
 */
import { createHash } from "node:crypto";
import { MAX_TIMESTAMP_DIFF_MICROS } from "./signature-verifier.js";
import { parseFlowerTimestamp } from "./timestamp.js";

/** Options of {@link ReplayCache}. */
export interface ReplayCacheOptions {
  /** Maximum number of remembered pairs; default 1,000,000 (a few hundred bytes each). */
  readonly maxEntries?: number;
  /** How long after its timestamp a pair is remembered, in ms; default 305,000 (Flower's window). */
  readonly windowMs?: number;
  /** Clock in epoch milliseconds; default `Date.now`. */
  readonly clock?: () => number;
}

/** Remembers accepted (public key, timestamp) pairs to reject replays within the window. */
export class ReplayCache {
  /** Key digest → expiry in epoch seconds (rounded up), in insertion order. */
  private readonly entries = new Map<string, number>();
  private readonly maxEntries: number;
  private readonly windowMs: number;
  private readonly clock: () => number;
  private forced = 0;

  /** @param options - see {@link ReplayCacheOptions}. */
  constructor(options: ReplayCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 1_000_000;
    this.windowMs = options.windowMs ?? MAX_TIMESTAMP_DIFF_MICROS / 1000;
    this.clock = options.clock ?? Date.now;
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1)
      throw new RangeError(`maxEntries must be a positive integer, got ${this.maxEntries}`);
    if (!(this.windowMs > 0))
      throw new RangeError(`windowMs must be positive, got ${this.windowMs}`);
  }

  /** Number of remembered pairs (including expired ones not swept yet). */
  get size(): number {
    return this.entries.size;
  }

  /** Number of unexpired entries dropped because the cache was full. */
  get forcedEvictions(): number {
    return this.forced;
  }

  private sweep(nowSeconds: number): void {
    for (const [key, expiresAt] of this.entries) {
      if (expiresAt > nowSeconds) break;
      this.entries.delete(key);
    }
  }

  /**
   * Records a pair if it is new. Call it after the signature and window checks passed.
   * @param publicKey - the `flwr-public-key-bin` bytes (or PEM text).
   * @param timestamp - the `flwr-timestamp` string, exactly as signed.
   * @param timestampMicros - the parsed timestamp, if already known.
   * @returns true the first time a pair is seen within its window, false for a replay.
   */
  checkAndRemember(
    publicKey: Uint8Array | string,
    timestamp: string,
    timestampMicros?: number,
  ): boolean {
    const now = this.clock();
    const nowSeconds = now / 1000;
    this.sweep(nowSeconds);
    const micros = timestampMicros ?? parseFlowerTimestamp(timestamp);
    const expiresAtMs = micros === undefined ? now + this.windowMs : micros / 1000 + this.windowMs;
    if (expiresAtMs <= now) return true; // outside the window: the verifier rejects it anyway
    // Rounding up keeps a pair at most 1 s past its window, when the verifier refuses it anyway.
    const expiresAt = Math.ceil(expiresAtMs / 1000);
    // The length-prefixed key keeps (key, timestamp) pairs apart whatever bytes they hold.
    const key = createHash("sha256")
      .update(`${typeof publicKey === "string" ? Buffer.byteLength(publicKey) : publicKey.length}:`)
      .update(publicKey)
      .update(timestamp)
      .digest()
      .toString("latin1", 0, 16);
    const known = this.entries.get(key);
    if (known !== undefined && known > nowSeconds) return false;
    this.entries.delete(key);
    this.entries.set(key, expiresAt);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) {
        this.entries.delete(oldest.value);
        this.forced++;
      }
    }
    return true;
  }

  /** Forgets everything. */
  clear(): void {
    this.entries.clear();
  }
}

/** Small value helpers shared by LinkState implementations: random ids, timestamps, tokens. */
import { randomBytes } from "node:crypto";
import { formatFlowerTimestamp } from "@flwr-ts/crypto";
import { APP_TOKEN_HEX_LENGTH } from "./link-state.js";

/** A random uint64 from 8 little-endian random bytes, never one of `exclude`. */
export function randomUint64(exclude: readonly bigint[] = []): bigint {
  for (;;) {
    const value = randomBytes(8).readBigUInt64LE(0);
    if (!exclude.includes(value)) return value;
  }
}

/** ISO 8601 UTC with `+00:00` and microseconds, as Python's `datetime.isoformat()`. */
export function isoTimestamp(epochMs: number): string {
  return formatFlowerTimestamp(Math.round(epochMs * 1000));
}

/** A fresh app token: 128 random bytes as 256 lowercase hex characters. */
export function newAppToken(): string {
  return randomBytes(APP_TOKEN_HEX_LENGTH / 2).toString("hex");
}

/** uint64 → signed int64 (two's complement), for SQLite. */
export function uint64ToInt64(value: bigint): bigint {
  return BigInt.asIntN(64, value);
}

/** signed int64 → uint64, from SQLite. */
export function int64ToUint64(value: bigint): bigint {
  return BigInt.asUintN(64, value);
}

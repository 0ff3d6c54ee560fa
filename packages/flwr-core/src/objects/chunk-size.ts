/** The array chunk size (`FLWR_PRIVATE_MAX_ARRAY_CHUNK_SIZE`, default 5 MiB), as Python reads it. */
import { ObjectError } from "./errors.js";

/** Default maximum `ArrayChunk` body size: 5,242,880 bytes. */
export const DEFAULT_MAX_ARRAY_CHUNK_SIZE = 5 * 1024 * 1024;

/** Environment variable overriding the chunk size (same name as Python Flower). */
export const CHUNK_SIZE_ENV = "FLWR_PRIVATE_MAX_ARRAY_CHUNK_SIZE";

/**
 * The maximum `ArrayChunk` size: `FLWR_PRIVATE_MAX_ARRAY_CHUNK_SIZE` when set, else 5 MiB.
 * Peers must use the same value to produce the same object IDs for arrays above the size.
 * @throws ObjectError when the variable is not a positive integer.
 */
export function maxArrayChunkSize(
  env: Readonly<Record<string, string | undefined>> = process.env,
): number {
  const raw = env[CHUNK_SIZE_ENV];
  if (raw === undefined) return DEFAULT_MAX_ARRAY_CHUNK_SIZE;
  return checkChunkSize(
    Number(raw.trim().replaceAll("_", "")),
    `${CHUNK_SIZE_ENV}=${JSON.stringify(raw)}`,
  );
}

/** Validates a chunk size. */
export function checkChunkSize(n: number, what = "chunk size"): number {
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new ObjectError(
      "chunk-size-invalid",
      "",
      `${what} must be a positive integer number of bytes`,
    );
  }
  return n;
}

/** Object IDs: the lowercase hex SHA-256 of an object's complete bytes (head, NUL, body). */
import { createHash } from "node:crypto";

/** Hashes one or more byte ranges as if they were concatenated (no concatenation is made). */
export function sha256Hex(...parts: Uint8Array[]): string {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest("hex");
}

/** The object ID of serialized object bytes. */
export function objectIdOf(content: Uint8Array): string {
  return sha256Hex(content);
}

/** True when `id` looks like an object ID (64 hex digits; Python also accepts upper case). */
export function isValidObjectId(id: string): boolean {
  return /^[0-9a-fA-F]{64}$/.test(id);
}

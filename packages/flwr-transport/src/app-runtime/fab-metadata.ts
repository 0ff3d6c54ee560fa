/**
 * Reading a FAB — Python's or flwr-ts's, both carry a `pyproject.toml` — with `@flwr-ts/core`'s
 * FAB reader (size cap, hash, zip, safe paths, `.info/CONTENT` manifest, Flower's required
 * fields), with its errors turned into {@link InvalidFabError}.
 */
import { type FabContents, readFab, readFabAsync } from "@flwr-ts/core";

export type { FabContents };

/** A FAB that cannot be used; the message says what is wrong. */
export class InvalidFabError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "InvalidFabError";
  }
}

/**
 * Reads and verifies a FAB.
 * @param expectedHash - when given, the FAB's SHA-256 must equal it.
 * @throws InvalidFabError with what is wrong.
 */
export function readFabContents(content: Uint8Array, expectedHash?: string): FabContents {
  try {
    return readFab(content, expectedHash === undefined ? {} : { expectedHash });
  } catch (error) {
    throw new InvalidFabError(error instanceof Error ? error.message : String(error), {
      cause: error,
    });
  }
}

/**
 * {@link readFabContents} inflating on libuv's thread pool, for servers.
 * @throws InvalidFabError with what is wrong.
 */
export async function readFabContentsAsync(
  content: Uint8Array,
  expectedHash?: string,
): Promise<FabContents> {
  try {
    return await readFabAsync(content, expectedHash === undefined ? {} : { expectedHash });
  } catch (error) {
    throw new InvalidFabError(error instanceof Error ? error.message : String(error), {
      cause: error,
    });
  }
}

/**
 * Recently received objects of a SuperNode, by object id, so that a message repeating objects
 * the node already fetched is not pulled again. The typical case is FedAvg: the evaluate
 * instruction of round r and the train instruction of round r+1 carry the same global arrays
 * (identical object ids), so the second one needs only its message, record dict and config
 * objects. An object id is the SHA-256 of its bytes, and cached bytes were verified when they
 * arrived, so a hit is exactly the object the SuperLink would send. Bounded by bytes (LRU).
 */

/** Default byte budget of {@link ObjectCache}. */
export const DEFAULT_OBJECT_CACHE_BYTES = 64 * 1024 * 1024;

/** A least-recently-used cache of verified objects, bounded by total bytes. */
export class ObjectCache {
  private readonly entries = new Map<string, Uint8Array>();
  private bytes = 0;

  /** @param maxBytes - total size kept; an object larger than a quarter of it is not kept. */
  constructor(readonly maxBytes: number = DEFAULT_OBJECT_CACHE_BYTES) {}

  /** Number of cached objects. */
  get size(): number {
    return this.entries.size;
  }

  /** Bytes held. */
  get totalBytes(): number {
    return this.bytes;
  }

  /** The bytes of `objectId` (marks it recently used), or undefined. */
  get(objectId: string): Uint8Array | undefined {
    const content = this.entries.get(objectId);
    if (content === undefined) return undefined;
    this.entries.delete(objectId);
    this.entries.set(objectId, content);
    return content;
  }

  /** Keeps verified bytes (the caller checked that their SHA-256 is `objectId`). */
  set(objectId: string, content: Uint8Array): void {
    if (content.byteLength > this.maxBytes / 4) return;
    const old = this.entries.get(objectId);
    if (old !== undefined) {
      this.entries.delete(objectId);
      this.bytes -= old.byteLength;
    }
    this.entries.set(objectId, content);
    this.bytes += content.byteLength;
    for (const [id, c] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(id);
      this.bytes -= c.byteLength;
    }
  }

  /** Drops everything. */
  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }
}

/**
 * Call metadata as handlers and clients see it, whatever the wire: gRPC metadata (grpc-js
 * `Metadata` satisfies these interfaces as it is) or HTTP headers (`http/header-metadata.ts`).
 * Keys are lower case; values are strings, or bytes for gRPC's `-bin` keys.
 */

/** One metadata value. */
export type MetadataValue = string | Buffer;

/** Request metadata: every value of a key, in order (empty when absent). */
export interface RequestMetadata {
  get(key: string): MetadataValue[];
}

/** Metadata a call may add to and read back (response headers, or a client's request metadata). */
export interface MutableMetadata extends RequestMetadata {
  /** Replaces every value of `key`. */
  set(key: string, value: MetadataValue): void;
  /** The first value of every key. */
  getMap(): { [key: string]: MetadataValue };
}

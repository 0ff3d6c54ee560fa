/**
 * The typed client shape both wires produce: `grpc/client.ts` (`createClient`, gRPC) and
 * `http/http-client.ts` (`createHttpClient`, Flower 1.40+'s protobuf over HTTP) return a
 * {@link ServiceClient}, so code above them (the SuperNode's `FleetConnection`, the CLI) does not
 * know which wire it talks.
 */
import type { MetadataValue, MutableMetadata, RequestMetadata } from "./metadata.js";
import type { GenericService, RequestOf, ResponseOf } from "./service-definition.js";

/** Per-call options. */
export interface CallOptions {
  /** Timeout in milliseconds from now (the whole call: connect, send, answer). */
  timeoutMs?: number;
  /**
   * Extra metadata for this call (merged after the client's {@link MetadataProvider}). A grpc-js
   * `Metadata` is one; over HTTP, `-bin` keys travel base64 without the suffix.
   */
  metadata?: MutableMetadata;
  /** Cancels the call when aborted (the call then fails with CANCELLED). */
  signal?: AbortSignal;
  /** Receives the server's response headers (gRPC initial metadata, HTTP headers) of a unary call. */
  onResponseMetadata?: (metadata: RequestMetadata) => void;
}

/**
 * A typed client: one async method per rpc, plus `close()`. A failed call throws an error with a
 * numeric `code` (`wire/code.ts`) and `details` (`isServiceError` is true for it).
 */
export type ServiceClient<S extends GenericService> = {
  [K in keyof S["methods"]]: S["methods"][K] extends { responseStream: true }
    ? (
        request: RequestOf<S["methods"][K]>,
        options?: CallOptions,
      ) => AsyncIterable<ResponseOf<S["methods"][K]>>
    : (
        request: RequestOf<S["methods"][K]>,
        options?: CallOptions,
      ) => Promise<ResponseOf<S["methods"][K]>>;
} & {
  /** Closes the underlying channel or connection pool. */
  close(): void;
};

/**
 * Adds metadata to every call, e.g. Flower's SuperNode signature.
 * @param method - the rpc's gRPC path (`/flwr.proto.Fleet/PullMessages`) on either wire.
 */
export type MetadataProvider = (method: string) => MutableMetadata | Promise<MutableMetadata>;

/** Every key of `metadata` with all its values, in order. */
export function metadataEntries(metadata: MutableMetadata): [string, MetadataValue[]][] {
  return Object.keys(metadata.getMap()).map((key) => [key, metadata.get(key)]);
}

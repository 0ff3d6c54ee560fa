/**
 * Public API of @flwr-ts/transport: gRPC services and clients, the SuperLink, the SuperNode,
 * and the types their options and results use.
 */
export type {
  ExecutedReply,
  ExecutionEnvironment,
  MessageExecutor,
  ReceivedObjects,
} from "./clientappio/message-executor.js";
export * from "./grpc/index.js";
export type { MessageLimits } from "./grpc/message-limits.js";
export type { ObjectLookup, ObjectStore, ObjectStoreStats } from "./object-store/object-store.js";
export type { PeerLiveness } from "./superlink/fleet/node-sessions.js";
export * from "./superlink/index.js";
export type { FlowerLoggerOptions } from "./superlink/logger.js";
export * from "./supernode/index.js";
export { RECONNECT_MAX_DELAY_MS } from "./supernode/supernode.js";
export type {
  CallObserver,
  CallOutcome,
  ServiceOptions,
  WireProtocol,
} from "./wire/call-context.js";
export type { MetadataValue, MutableMetadata, RequestMetadata } from "./wire/metadata.js";

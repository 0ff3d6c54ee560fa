/** Public API of @flwr-ts/transport. */
export * from "./grpc/index.js";
export * from "./superlink/index.js";
export * from "./supernode/index.js";

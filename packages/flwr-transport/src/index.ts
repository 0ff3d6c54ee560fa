/** Public API of @flwr-ts/transport. */
export * from "./grpc/index.js";

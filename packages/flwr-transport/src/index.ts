/** Public API of @flwr-ts/transport. */
export {};

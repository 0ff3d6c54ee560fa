/** Public API of @flwr-ts/core. */
export {};

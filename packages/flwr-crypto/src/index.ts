/** Public API of @flwr-ts/crypto. */
export {};

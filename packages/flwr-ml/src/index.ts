/** Public API of @flwr-ts/ml. */
export {};

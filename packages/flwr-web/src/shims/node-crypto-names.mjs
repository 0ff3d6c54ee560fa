/** The names src/shims/node-crypto.ts provides (read by build-web.mjs, which runs without TS). */
export const NAMES = { createHash: 1, webcrypto: 1, randomBytes: 1 };

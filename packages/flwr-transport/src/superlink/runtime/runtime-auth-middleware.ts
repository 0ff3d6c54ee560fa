/**
 * Moved to `protocol/runtime/runtime-auth-middleware.ts` (shared by the SuperLink's and the SuperNode's Runtime
 * API); re-exported here so existing imports keep working.
 */
export * from "../../protocol/runtime/runtime-auth-middleware.js";

/** SuperLink state: the LinkState interface, its rules, and the in-memory implementation. */
export * from "./link-state.js";
export * from "./memory-link-state.js";
export * from "./message-rules.js";
export * from "./run-rules.js";
export * from "./state-events.js";
export * from "./state-values.js";
export * from "./wait-for-change.js";

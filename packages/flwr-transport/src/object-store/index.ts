/** The SuperLink's content-addressed object store: interface, in-memory and SQLite implementations. */
export * from "./memory-object-store.js";
export * from "./object-store.js";
export * from "./sqlite-object-store.js";

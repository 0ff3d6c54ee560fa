export * from "./channel-options.js";
export * from "./client.js";
export * from "./rpc-error.js";
export * from "./server-handlers.js";
export * from "./service-definition.js";
export * from "./tls.js";

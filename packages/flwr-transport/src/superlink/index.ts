/** The SuperLink: state, servicers, authentication, composition and CLI entry. */
export * from "./auth/node-auth-middleware.js";
export * from "./cli/open-stores.js";
export * from "./cli/run-superlink.js";
export * from "./cli/superlink-args.js";
export * from "./control/account.js";
export * from "./control/account-login-handlers.js";
export * from "./control/control-servicer.js";
export * from "./control/federation-handlers.js";
export * from "./control/node-handlers.js";
export * from "./fleet/fleet-servicer.js";
export * from "./flower-exit.js";
export {
  createFlowerLogger as createSuperLinkLogger,
  type Logger as SuperLinkLogger,
} from "./logger.js";
export * from "./state/index.js";
export * from "./superlink.js";

/** Configuration: app federations (`package.json` `flwr.federations`) and `key=value` config strings. */
export {
  type FederationConfig,
  FederationConfigError,
  type FederationConfigErrorCode,
  type FederationEntry,
  type FederationResult,
  federationEntrySchema,
  resolveFederation,
} from "./federation-config.js";
export { ConfigArgsError, flattenConfig, parseConfigArgs } from "./parse-config-args.js";

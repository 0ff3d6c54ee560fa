/**
 * Configuration: app federations (`package.json` `flwr.federations`), SuperLink connections
 * (`$FLWR_HOME/config.toml`), their Control endpoints, and `key=value` config strings.
 */
export {
  ADDRESS_FORMS,
  CONTROL_TRANSPORTS,
  type ControlEndpoint,
  type ControlEndpointInput,
  type ControlEndpointResult,
  type ControlTransport,
  controlEndpointLabel,
  resolveControlEndpoint,
} from "./control-endpoint.js";
export {
  controlTransportSchema,
  type FederationConfig,
  FederationConfigError,
  type FederationConfigErrorCode,
  type FederationEntry,
  type FederationResult,
  federationEntrySchema,
  resolveFederation,
} from "./federation-config.js";
export {
  LOCAL_CONTROL_API_PORT,
  LOCAL_SUPERLINK_IN_MEMORY_ADDRESS,
  localSuperLinkOf,
} from "./local-superlink.js";
export { ConfigArgsError, flattenConfig, parseConfigArgs } from "./parse-config-args.js";
export {
  type SimulationOptions,
  simulationConfigFromOverrides,
  simulationConfigOf,
  simulationOptionsSchema,
} from "./simulation-options.js";
export {
  LOCAL_SUPERLINK_ADDRESS,
  resolveSuperLinkConnection,
  superLinkConnectionSchema,
} from "./superlink-connection.js";

/** The SuperNode: Fleet client, backoff, heartbeat, lifecycle. */
export { abortableSleep } from "./abortable-sleep.js";
export { Backoff, type BackoffOptions, type Jitter } from "./backoff.js";
export {
  buildErrorReply,
  EXECUTION_UNAVAILABLE_REASON,
  type PreparedReply,
} from "./error-reply.js";
export { NOT_REGISTERED_MESSAGE, SuperNodeFatalError } from "./errors.js";
export {
  FleetConnection,
  type FleetConnectionOptions,
  type FleetWire,
  type FleetWireOptions,
  type PulledMessage,
  type PulledObject,
  signedMetadata as signedFleetMetadata,
} from "./fleet-connection.js";
export {
  HEARTBEAT_CALL_TIMEOUT_SECONDS,
  HEARTBEAT_INTERVAL_SECONDS,
  HEARTBEAT_MAX_RETRY_DELAY_MS,
  type HeartbeatLost,
  HeartbeatSender,
  type HeartbeatSenderOptions,
  nextHeartbeatDelayMs,
} from "./heartbeat.js";
export { consoleLogger as superNodeConsoleLogger, type Logger as SuperNodeLogger } from "./log.js";
export {
  ObjectPullError,
  PULL_LIMITS,
  type PullLimits,
  type PullObjectsOptions,
  pullObjects,
} from "./pull-objects.js";
export {
  callWithRetry,
  classifyRpcError,
  isFatalTransportFailure,
  RetriesExhaustedError,
  type RetryOptions,
  type RpcFailureKind,
  rpcErrorDetails,
  ShutdownError,
} from "./rpc-retry.js";
export { SuperNode, type SuperNodeCommonOptions, type SuperNodeOptions } from "./supernode.js";

/**
 * Public API of @flwr-ts/web: a Flower SuperNode for web pages — the WebCrypto key pair and
 * request signer, the `fetch` client of Flower 1.42's HTTP Fleet API, the SuperNode loop, the
 * worker-backed built-in ClientApp, and the IndexedDB key store. The page (`src/page/`) is built
 * with `pnpm --filter @flwr-ts/web bundle` into `dist-web/`.
 */
export {
  BrowserSuperNode,
  type BrowserSuperNodeOptions,
  HEARTBEAT_INTERVAL_SECONDS,
  HEARTBEAT_PERIOD_MS,
  LONG_POLL_MS,
  type NodeEvent,
  type NodeStatus,
} from "./browser-supernode.js";
export { p1363ToDer } from "./der-signature.js";
export {
  FetchFleetClient,
  FleetCallError,
  type FleetCallOptions,
  kebabCase,
  PROTOBUF_MEDIA_TYPE,
  PULL_WAIT_HEADER,
} from "./fetch-fleet-client.js";
export { formatFlowerTimestamp } from "./flower-timestamp.js";
export { deleteStoredKey, loadStoredKey, storeKey } from "./key-store.js";
export { BrowserNodeFatalError, type FatalKind, fatalErrorOf } from "./node-errors.js";
export {
  describeKey,
  generateSuperNodeKey,
  importSuperNodeKey,
  KEY_ALGORITHM,
  openSshPublicKey,
  pemOf,
  type SuperNodeKey,
} from "./web-key.js";
export {
  PUBLIC_KEY_HTTP_HEADER,
  SIGNATURE_HTTP_HEADER,
  TIMESTAMP_HTTP_HEADER,
  WebRequestSigner,
} from "./web-signer.js";
export {
  AUTHEXAMPLE_RUN_CONFIG,
  createWorkerClientApp,
  type LastMetrics,
  type TrainingProgress,
  TrainingWorker,
} from "./worker-client-app.js";
export type { DataSpec, WireTensor, WorkerRequest, WorkerResponse } from "./worker-protocol.js";

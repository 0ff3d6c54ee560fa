/**
 * The whole vocabulary of the flwr-ts protocol extensions, and the Flower headers flwr-ts
 * servers and clients share, in one place. Every `flwr-ts-*` entry is opt-in: a Python peer
 * neither sends nor answers it, so with a Python peer on either end every call is Flower's
 * (`interop/README.md`, "flwr-ts extensions"). The same names travel as gRPC metadata and as
 * HTTP headers.
 */

/**
 * Request: "hold this pull open up to N ms until there is work" — Fleet PullMessages,
 * ServerAppIo PullMessages, ClientAppIo/ServerAppIo ListAppsToLaunch (`long-poll.ts`).
 */
export const PULL_WAIT_HEADER = "flwr-ts-pull-wait-ms";
/** Longest wait a server grants (ms). */
export const MAX_PULL_WAIT_MS = 30_000;

/** Request and response: "I accept inlined messages of up to N object bytes" (`inline/`). */
export const INLINE_ACCEPT_HEADER = "flwr-ts-inline-max-bytes";
/** Request or response: comma-separated ids of the messages whose `content` is inline. */
export const INLINED_HEADER = "flwr-ts-inlined";

/** Request: the run a warm ClientApp process waits for (ClientAppIo ListAppsToLaunch). */
export const RUN_HEADER = "flwr-ts-run-id";
/** Response: the app token of that run, saving the warm process its RequestToken call. */
export const WARM_TOKEN_HEADER = "flwr-ts-app-token";

/** Flower's AppIo app token (`APP_TOKEN_HEADER` in Flower 1.29). */
export const APP_TOKEN_HEADER = "flwr-app-token";

/**
 * Globals some shared modules read, for the browser bundle: `Buffer` (the generated protobuf code
 * of `@flwr-ts/core` wraps bytes fields in it; the `buffer` package is Node's API on
 * Uint8Array) and a `process` with only `env`: no native addon (`FLWR_ML_NATIVE=0`) and
 * in-process training (`FLWR_TRAIN_WORKERS=1`) for `@flwr-ts/ml`.
 */
import { Buffer } from "buffer";

const g = globalThis as unknown as { Buffer?: unknown; process?: unknown };
g.Buffer ??= Buffer;
g.process ??= { env: { FLWR_ML_NATIVE: "0", FLWR_TRAIN_WORKERS: "1" } };

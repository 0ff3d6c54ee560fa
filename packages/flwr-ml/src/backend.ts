/**
 * Chooses and initialises the TensorFlow.js backend for training:
 * `@tensorflow/tfjs-node` when it can be imported (native TensorFlow), else
 * `wasm` (SIMD) with this package's kernels, else `cpu` with the same kernels.
 * `FLWR_TFJS_BACKEND=node|wasm|cpu` forces one.
 */
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type PatchedBackendName, registerTrainingKernels } from "./kernels/register.js";
import { netTrainingEngine } from "./native-net-step.js";
import * as tf from "./tf.js";

/** Names accepted by {@link initBackend} and `FLWR_TFJS_BACKEND`. */
export type BackendChoice = "node" | "wasm" | "cpu";

/** The backend in use after {@link initBackend}. */
export interface BackendInfo {
  /** What was chosen. */
  choice: BackendChoice;
  /** The tfjs backend name (`tensorflow`, `wasm`, `cpu`). */
  tfBackend: string;
  /** Kernels this package registered on it. */
  kernels: string[];
  /** Why this backend (forced by the environment, or fallbacks taken). */
  reason: string;
}

/** Options of {@link initBackend}. */
export interface InitBackendOptions {
  /** Force a backend (overrides `FLWR_TFJS_BACKEND`). */
  backend?: BackendChoice;
  /** Where the one-line choice is logged; default: stderr. `null` silences it. */
  log?: ((line: string) => void) | null;
}

/** The environment variable that forces a backend. */
export const BACKEND_ENV = "FLWR_TFJS_BACKEND";

/** Bad backend name given in the environment or options. */
export class BackendSelectionError extends Error {
  /** @param message - what is wrong and what to do. */
  constructor(message: string) {
    super(message);
    this.name = "BackendSelectionError";
  }
}

let current: Promise<BackendInfo> | undefined;

/** Parses a backend name; throws {@link BackendSelectionError} on anything else. */
export function parseBackendChoice(value: string, source: string): BackendChoice {
  const v = value.trim().toLowerCase();
  if (v === "node" || v === "wasm" || v === "cpu") return v;
  throw new BackendSelectionError(
    `${source}=${JSON.stringify(value)} is not a backend: use node, wasm or cpu`,
  );
}

async function tryNode(): Promise<string | undefined> {
  // An app may have imported @tensorflow/tfjs-node itself (it registers the
  // `tensorflow` backend in the shared tfjs-core); else import it from here or
  // from the app's directory (pnpm does not let this package see the app's
  // dependencies). A variable specifier: the package is optional.
  if (!tf.findBackendFactory("tensorflow")) {
    const specifier = "@tensorflow/tfjs-node";
    const failures: string[] = [];
    try {
      await import(specifier);
    } catch (error) {
      failures.push((error as Error).message.split("\n")[0] ?? "");
      try {
        const fromApp = createRequire(join(process.cwd(), "package.json")).resolve(specifier);
        await import(pathToFileURL(fromApp).href);
      } catch (error2) {
        failures.push((error2 as Error).message.split("\n")[0] ?? "");
      }
    }
    if (!tf.findBackendFactory("tensorflow")) {
      return `@tensorflow/tfjs-node not available (${failures.at(-1) ?? "no backend registered"})`;
    }
  }
  if (!(await tf.setBackend("tensorflow")))
    return "@tensorflow/tfjs-node loaded but its backend did not initialise";
  return undefined;
}

async function tryPatched(name: PatchedBackendName): Promise<{ kernels: string[] } | string> {
  if (name === "wasm") {
    try {
      await import("@tensorflow/tfjs-backend-wasm");
    } catch (error) {
      return `tfjs-backend-wasm not available (${(error as Error).message})`;
    }
  }
  const kernels = registerTrainingKernels(name);
  // The cpu backend greets Node users on creation; we chose it knowingly.
  const warn = console.warn;
  if (name === "cpu") console.warn = () => {};
  try {
    if (!(await tf.setBackend(name))) return `the ${name} backend did not initialise`;
  } catch (error) {
    return `the ${name} backend failed: ${(error as Error).message}`;
  } finally {
    console.warn = warn;
  }
  await tf.ready();
  return { kernels };
}

async function choose(options: InitBackendOptions): Promise<BackendInfo> {
  const envValue = process.env[BACKEND_ENV];
  let forced: BackendChoice | undefined = options.backend;
  let reason = "";
  if (forced) reason = "requested";
  else if (envValue !== undefined && envValue !== "") {
    forced = parseBackendChoice(envValue, BACKEND_ENV);
    reason = `${BACKEND_ENV}=${forced}`;
  }
  const order: BackendChoice[] = forced ? [forced] : ["node", "wasm", "cpu"];
  const skipped: string[] = [];
  for (const choice of order) {
    if (choice === "node") {
      const failure = await tryNode();
      if (failure === undefined) {
        return {
          choice,
          tfBackend: tf.getBackend(),
          kernels: [],
          reason: reason || "tfjs-node loaded",
        };
      }
      skipped.push(failure);
    } else {
      const result = await tryPatched(choice);
      if (typeof result !== "string") {
        return {
          choice,
          tfBackend: tf.getBackend(),
          kernels: result.kernels,
          reason: reason || skipped.join("; ") || "default",
        };
      }
      skipped.push(result);
    }
  }
  throw new BackendSelectionError(
    `no TensorFlow.js backend could be initialised: ${skipped.join("; ")}`,
  );
}

/**
 * Selects and initialises the backend once per process (later calls return
 * the same result) and logs the choice in one line.
 */
export function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  if (!current) {
    current = choose(options).then((info) => {
      const log =
        options.log === undefined
          ? (line: string) => process.stderr.write(`${line}\n`)
          : options.log;
      const kernels =
        info.kernels.length > 0 ? ` + flwr-ml kernels (${info.kernels.join(", ")})` : "";
      const net = netTrainingEngine();
      const step =
        info.tfBackend === "tensorflow"
          ? ""
          : net.engine === "native"
            ? "; Net training step: native (@flwr-ts/ml-native)"
            : `; Net training step: tfjs (${net.reason})`;
      log?.(`flwr-ml: TensorFlow.js backend ${info.tfBackend}${kernels} [${info.reason}]${step}`);
      return info;
    });
    current.catch(() => {
      current = undefined;
    });
  }
  return current;
}

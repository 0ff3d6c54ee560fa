/**
 * The SuperNode's Runtime HTTP API (Flower 1.42's `flower-supernode --host/--port/--ssl-*`,
 * default 127.0.0.1:9094): `POST /v1/runtime/<kebab-method>` protobuf over HTTP(S), the version
 * check first ("SuperNode" in its reason), then the one Runtime auth middleware (SuperExec HMAC on
 * AcquireTask with `--superexec-auth-secret-file`, `flwr-task-token` on the rest; any failure
 * 401 {1008}), then the handlers of `supernode-runtime-handlers.ts` over the node's state. Served
 * beside the ClientAppIo gRPC API, over the same state.
 */

import type { ServerTlsFiles } from "../../grpc/tls.js";
import { createRuntimeAuthMiddleware } from "../../protocol/runtime/runtime-auth-middleware.js";
import { RuntimeDefinition } from "../../protocol/runtime/runtime-definition.js";
import { createRuntimeVersionMiddleware } from "../../protocol/runtime/runtime-version-middleware.js";
import { HttpRpcRouter, type HttpServiceOptions } from "../../wire/http/http-router.js";
import { listenHttp } from "../../wire/http/http-server.js";
import type { LogLevel } from "../log.js";
import type { NodeState } from "../node-state.js";
import { NodeTasks } from "./node-tasks.js";
import { createSuperNodeRuntimeHandlers } from "./supernode-runtime-handlers.js";

/** Options of {@link startSuperNodeRuntime}. */
export interface SuperNodeRuntimeOptions {
  /** The SuperNode's state (shared with ClientAppIo and the message executor). */
  state: NodeState;
  /** `host:port` to bind (port 0 picks a free one). */
  address: string;
  /** Server TLS files; undefined serves plaintext HTTP. */
  tls: ServerTlsFiles | undefined;
  /** The SuperExec master secret (the file's exact bytes); undefined: AcquireTask unchecked. */
  superExecAuthSecret?: Uint8Array | undefined;
  /** Log sink; default silent. */
  log?: (level: LogLevel, message: string) => void;
  /** Wall clock, epoch ms (default `Date.now`; tests move it). */
  clock?: () => number;
  /** Called with every error answered as a 5xx (default: the router's, which logs it). */
  onError?: HttpServiceOptions["onError"];
}

/** A serving SuperNode Runtime API. */
export interface SuperNodeRuntime {
  /** The bound port. */
  readonly port: number;
  /** The task table (tests). */
  readonly tasks: NodeTasks;
  /** Stops the server (in-flight calls get `graceMs`). */
  close(graceMs?: number): Promise<void>;
}

/** Builds the router of the SuperNode's Runtime API (for tests and {@link startSuperNodeRuntime}). */
export function createSuperNodeRuntimeRouter(
  options: Omit<SuperNodeRuntimeOptions, "address" | "tls">,
): { router: HttpRpcRouter; tasks: NodeTasks } {
  const clock = options.clock ?? Date.now;
  const tasks = new NodeTasks(options.state, clock);
  const handlers = createSuperNodeRuntimeHandlers({ tasks, log: options.log });
  const auth = createRuntimeAuthMiddleware({
    state: tasks,
    superExecAuthSecret: options.superExecAuthSecret,
    clock,
  });
  const router = new HttpRpcRouter().addService(RuntimeDefinition, handlers, {
    middleware: [createRuntimeVersionMiddleware("SuperNode"), auth],
    ...(options.onError ? { onError: options.onError } : {}),
  });
  return { router, tasks };
}

/**
 * Serves the Runtime API on `address`.
 * @throws Error (with Node's `code`, e.g. EADDRINUSE) when the address cannot be bound.
 */
export async function startSuperNodeRuntime(
  options: SuperNodeRuntimeOptions,
): Promise<SuperNodeRuntime> {
  const { router, tasks } = createSuperNodeRuntimeRouter(options);
  const server = await listenHttp(router, options.address, options.tls);
  return { port: server.port, tasks, close: (graceMs) => server.close(graceMs) };
}

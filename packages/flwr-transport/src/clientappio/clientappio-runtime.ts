/**
 * The SuperNode's app side in one call: a {@link NodeState}, the ClientAppIo server on
 * `--clientappio-api-address` (plaintext, token policy), optionally Flower 1.42's Runtime HTTP
 * API over the same state (`--host/--port/--ssl-*`, `supernode/runtime/`), the
 * {@link MessageExecutor} the SuperNode hands its messages to, and — with `--isolation
 * subprocess` — this installation's SuperExec.
 */
import type { ChildProcess } from "node:child_process";
import { type UserConfig, userConfigFromProto } from "@flwr-ts/core";
import { ClientAppIoDefinition, type Fab, type Run } from "@flwr-ts/core/proto";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { readFabContents } from "../app-runtime/fab-metadata.js";
import { flowerChannelOptions } from "../grpc/channel-options.js";
import { addHealthService } from "../grpc/health-service.js";
import { type MessageLimits, messageLimitOptions } from "../grpc/message-limits.js";
import { createServiceImplementation } from "../grpc/server-handlers.js";
import { guardServerSessions } from "../grpc/session-guard.js";
import type { ServerTlsFiles } from "../grpc/tls.js";
import { inlineMaxFromEnv } from "../inline/inline-content.js";
import { createInlineAnnouncementMiddleware } from "../inline/inline-server.js";
import { createAppTokenMiddleware } from "../serverappio/app-token-middleware.js";
import { localAppIoAddress, spawnSuperExec } from "../superexec/spawn-superexec.js";
import type { LogLevel } from "../supernode/log.js";
import { NodeState } from "../supernode/node-state.js";
import {
  type SuperNodeRuntime,
  startSuperNodeRuntime,
} from "../supernode/runtime/supernode-runtime-server.js";
import { createClientAppIoHandlers } from "./clientappio-servicer.js";
import { createMessageExecutor, type MessageExecutor } from "./message-executor.js";

/** A running ClientAppIo side. */
export interface ClientAppIoRuntime {
  /** Give to `SuperNode` as `executor`. */
  readonly executor: MessageExecutor;
  /** The bound port. */
  readonly port: number;
  /** The node state (tests). */
  readonly state: NodeState;
  /** The Runtime HTTP API's bound port, when it is served. */
  readonly runtimePort: number | undefined;
  /** Stops the SuperExec child and the servers. */
  close(): Promise<void>;
}

/** A run's ClientApp config from its FAB: `[tool.flwr.app.config]` fused with the run's overrides. */
export function runConfigFromFab(fab: Fab, run: Run): UserConfig {
  const defaults = readFabContents(fab.content).config;
  const overrides = userConfigFromProto(run.overrideConfig);
  const fused: UserConfig = Object.assign(Object.create(null), defaults);
  for (const [k, v] of Object.entries(overrides)) if (k in defaults) fused[k] = v;
  return fused;
}

/**
 * Starts the ClientAppIo server on `address` and, for `subprocess` isolation, the SuperExec.
 * @throws when the address cannot be bound.
 */
export async function startClientAppIo(options: {
  address: string;
  isolation: "subprocess" | "process";
  /** Largest gRPC message received and sent on ClientAppIo; default Flower's. */
  messageLimits?: MessageLimits | undefined;
  /** Also serve Flower 1.42's Runtime HTTP API over the same state. */
  runtime?:
    | {
        address: string;
        tls: ServerTlsFiles | undefined;
        superExecAuthSecret?: Uint8Array | undefined;
        log?: (level: LogLevel, message: string) => void;
      }
    | undefined;
}): Promise<ClientAppIoRuntime> {
  const state = new NodeState();
  const inlineMaxBytes = inlineMaxFromEnv();
  const server = new Server({
    ...flowerChannelOptions,
    ...messageLimitOptions(options.messageLimits),
  });
  const { definition, implementation } = createServiceImplementation(
    ClientAppIoDefinition,
    createClientAppIoHandlers(state, { inlineMaxBytes }),
    {
      middleware: [
        createAppTokenMiddleware(state),
        createInlineAnnouncementMiddleware(inlineMaxBytes),
      ],
    },
  );
  server.addService(definition, implementation);
  addHealthService(server, [ClientAppIoDefinition.fullName]);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(options.address, ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  guardServerSessions(server);
  let runtime: SuperNodeRuntime | undefined;
  if (options.runtime) {
    try {
      runtime = await startSuperNodeRuntime({ state, ...options.runtime });
    } catch (error) {
      server.forceShutdown();
      state.close();
      throw error;
    }
  }
  let superexec: ChildProcess | undefined;
  if (options.isolation === "subprocess")
    superexec = spawnSuperExec(localAppIoAddress(options.address, port), "clientapp");
  return {
    executor: createMessageExecutor(state, runConfigFromFab),
    port,
    state,
    runtimePort: runtime?.port,
    async close() {
      if (superexec) await endChild(superexec, 2000);
      await runtime?.close();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 1000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      state.close();
    },
  };
}

/** Sends SIGTERM to `child` and waits for its exit, up to `graceMs` (then SIGKILL). */
function endChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      resolve();
    }, graceMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/**
 * The thread that sends an app process's heartbeats (see `heartbeat-thread.ts`): its own event
 * loop and gRPC channel, so heartbeats go out on time even while the app's own code keeps the
 * main thread busy (a synchronous training loop), as Python Flower's heartbeat thread does.
 *
 * Messages from the parent: `{ token, immediate }` starts beating for a token (replacing any
 * previous one), `{ token: undefined }` stops, `{ close: true }` ends the thread. To the parent:
 * `{ ready: true }` once listening, `{ lost: token }` when the server answers `success=false`,
 * `{ error: text }` on a failed call.
 *
 * For a Flower 1.35+ Runtime API (`service: "runtime"`, HTTP) the thread calls SendTaskHeartbeat
 * with the token in `flwr-task-token`; a 401 (the token was revoked: the run was stopped) is
 * reported as `{ lost: token }` too.
 */

import { parentPort, workerData } from "node:worker_threads";
import { ClientAppIoDefinition, ServerAppIoDefinition } from "@flwr-ts/core/proto";
import { credentials, Metadata } from "@grpc/grpc-js";
import { flowerChannelOptions } from "../grpc/channel-options.js";
import { createClient } from "../grpc/client.js";
import { APP_TOKEN_HEADER } from "../serverappio/app-token-middleware.js";
import { Code } from "../wire/code.js";
import { isServiceError } from "../wire/rpc-error.js";
import { createRuntimeClient, type RuntimeClient } from "./runtime-api/runtime-client.js";

/** What the thread is started with. */
export interface HeartbeatWorkerData {
  /** Which AppIo service the token belongs to (`runtime`: a Flower 1.35+ Runtime API task). */
  readonly service: "clientappio" | "serverappio" | "runtime";
  /** The AppIo address (plaintext), or the Runtime API's `host:port`. */
  readonly address: string;
  /** Milliseconds between heartbeats. */
  readonly intervalMs: number;
  /** Runtime API only: plain HTTP (else HTTPS). */
  readonly insecure?: boolean;
  /** Runtime API only: the CA that signed its certificate (a PEM file's path, or PEM text). */
  readonly rootCertificates?: string | undefined;
}

/** A message from the parent. */
export type HeartbeatCommand = { token: string | undefined; immediate?: boolean } | { close: true };

const data = workerData as HeartbeatWorkerData;
const port = parentPort!;
let token: string | undefined;
const appIoClient = () =>
  createClient(
    data.service === "clientappio" ? ClientAppIoDefinition : ServerAppIoDefinition,
    data.address,
    credentials.createInsecure(),
    {
      channelOptions: flowerChannelOptions,
      metadata: () => {
        const md = new Metadata();
        if (token) md.set(APP_TOKEN_HEADER, token);
        return md;
      },
    },
  ) as ReturnType<typeof createClient<typeof ClientAppIoDefinition>>;
const client = data.service === "runtime" ? undefined : appIoClient();
/** The Runtime API client of the current token (its header is per client). */
let runtime: { token: string; client: RuntimeClient } | undefined;
let timer: NodeJS.Timeout | undefined;

/** One SendTaskHeartbeat of a Runtime API task; a revoked token (401) counts as lost. */
async function runtimeBeat(forToken: string): Promise<boolean> {
  if (runtime?.token !== forToken) {
    runtime?.client.close();
    runtime = {
      token: forToken,
      client: createRuntimeClient(
        {
          address: data.address,
          insecure: data.insecure ?? false,
          rootCertificates: data.rootCertificates,
        },
        forToken,
      ),
    };
  }
  try {
    return (await runtime.client.sendTaskHeartbeat({}, { timeoutMs: 5_000 })).success;
  } catch (error) {
    if (isServiceError(error) && error.code === Code.UNAUTHENTICATED) return false;
    throw error;
  }
}

async function beat(forToken: string): Promise<void> {
  try {
    const success = client
      ? (await client.sendAppHeartbeat({ token: forToken }, { timeoutMs: 10_000 })).success
      : await runtimeBeat(forToken);
    if (!success && token === forToken) port.postMessage({ lost: forToken });
  } catch (error) {
    if (token === forToken) port.postMessage({ error: String((error as Error)?.message ?? error) });
  }
}

port.postMessage({ ready: true });
port.on("message", (command: HeartbeatCommand) => {
  if (timer) clearInterval(timer);
  timer = undefined;
  if ("close" in command) {
    token = undefined;
    client?.close();
    runtime?.client.close();
    port.close();
    return;
  }
  token = command.token;
  const current = token;
  if (current === undefined) return;
  if (command.immediate) void beat(current);
  timer = setInterval(() => void beat(current), data.intervalMs);
});

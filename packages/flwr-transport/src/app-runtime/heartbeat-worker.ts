/**
 * The thread that sends an app process's heartbeats (see `heartbeat-thread.ts`): its own event
 * loop and gRPC channel, so heartbeats go out on time even while the app's own code keeps the
 * main thread busy (a synchronous training loop), as Python Flower's heartbeat thread does.
 *
 * Messages from the parent: `{ token, immediate }` starts beating for a token (replacing any
 * previous one), `{ token: undefined }` stops, `{ close: true }` ends the thread. To the parent:
 * `{ ready: true }` once listening, `{ lost: token }` when the server answers `success=false`,
 * `{ error: text }` on a failed call.
 */

import { parentPort, workerData } from "node:worker_threads";
import { ClientAppIoDefinition, ServerAppIoDefinition } from "@flwr-ts/core/proto";
import { credentials, Metadata } from "@grpc/grpc-js";
import { flowerChannelOptions } from "../grpc/channel-options.js";
import { createClient } from "../grpc/client.js";
import { APP_TOKEN_HEADER } from "../serverappio/app-token-middleware.js";

/** What the thread is started with. */
export interface HeartbeatWorkerData {
  /** Which AppIo service the token belongs to. */
  readonly service: "clientappio" | "serverappio";
  /** The AppIo address (plaintext). */
  readonly address: string;
  /** Milliseconds between heartbeats. */
  readonly intervalMs: number;
}

/** A message from the parent. */
export type HeartbeatCommand = { token: string | undefined; immediate?: boolean } | { close: true };

const data = workerData as HeartbeatWorkerData;
const port = parentPort!;
let token: string | undefined;
const client = createClient(
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
let timer: NodeJS.Timeout | undefined;

async function beat(forToken: string): Promise<void> {
  try {
    const { success } = await client.sendAppHeartbeat({ token: forToken }, { timeoutMs: 10_000 });
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
    client.close();
    port.close();
    return;
  }
  token = command.token;
  const current = token;
  if (current === undefined) return;
  if (command.immediate) void beat(current);
  timer = setInterval(() => void beat(current), data.intervalMs);
});

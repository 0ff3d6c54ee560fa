/**
 * Heartbeats from the worker thread reach a real ClientAppIo-shaped server while the main thread
 * is blocked (a synchronous ClientApp), follow the current token, stop, and report
 * `success=false`.
 */
import { ClientAppIoDefinition, type SendAppHeartbeatRequest } from "@flwr-ts/core/proto";
import { Server, ServerCredentials, status } from "@grpc/grpc-js";
import { afterAll, beforeAll, expect, test } from "vitest";
import { RpcError } from "../grpc/rpc-error.js";
import { createServiceImplementation } from "../grpc/server-handlers.js";
import { AppHeartbeatThread } from "./heartbeat-thread.js";

let server: Server;
let address: string;
const received: string[] = [];

beforeAll(async () => {
  server = new Server();
  const handlers: Record<string, unknown> = {};
  for (const name of Object.keys(ClientAppIoDefinition.methods))
    handlers[name] = () => {
      throw new RpcError(status.UNIMPLEMENTED, "not in this test");
    };
  handlers.sendAppHeartbeat = (request: SendAppHeartbeatRequest) => {
    received.push(request.token);
    return { success: request.token !== "expired" };
  };
  const { definition, implementation } = createServiceImplementation(
    ClientAppIoDefinition,
    handlers as never,
  );
  server.addService(definition, implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  address = `127.0.0.1:${port}`;
});

afterAll(() => {
  server.forceShutdown();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const count = (token: string) => received.filter((t) => t === token).length;

test("heartbeats keep going while the main thread is blocked", async () => {
  const thread = new AppHeartbeatThread({ service: "clientappio", address, intervalMs: 100 });
  try {
    await thread.ready;
    thread.beat("busy", false);
    await sleep(50); // the thread has its token
    const until = Date.now() + 1500;
    while (Date.now() < until) {
      // a synchronous ClientApp: nothing else runs on this thread
    }
    await sleep(300); // the server (on this thread) handles what arrived meanwhile
    expect(count("busy")).toBeGreaterThanOrEqual(8);
  } finally {
    await thread.close();
  }
});

test("follows the current token, stops, and reports a lost token", async () => {
  const lost: string[] = [];
  const thread = new AppHeartbeatThread({
    service: "clientappio",
    address,
    intervalMs: 50,
    onLost: (t) => lost.push(t),
  });
  try {
    await thread.ready;
    const first = thread.beat("first");
    await sleep(200);
    first.stop();
    const second = thread.beat("second");
    first.stop(); // a stale handle does not stop the current token
    await sleep(200);
    const seen = count("first");
    expect(seen).toBeGreaterThanOrEqual(2);
    expect(count("second")).toBeGreaterThanOrEqual(2);
    second.stop();
    const afterStop = count("second");
    await sleep(200);
    expect(count("second")).toBeLessThanOrEqual(afterStop + 1); // at most one in flight
    expect(count("first")).toBe(seen);
    thread.beat("expired");
    await sleep(150);
    expect(lost[0]).toBe("expired");
  } finally {
    await thread.close();
  }
});

test("if the thread dies, heartbeats continue from the main thread", async () => {
  const errors: string[] = [];
  const thread = new AppHeartbeatThread({
    service: "clientappio",
    address,
    intervalMs: 50,
    onError: (m) => errors.push(m),
    fallback: async (token) => {
      received.push(`fallback:${token}`);
      return true;
    },
  });
  try {
    await thread.ready;
    thread.beat("survivor");
    // Kill the thread from outside (as a crash would).
    await (thread as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    await sleep(250);
    expect(errors.join("\n")).toMatch(
      /heartbeat thread exited with code 1; sending heartbeats from the main thread/,
    );
    expect(count("fallback:survivor")).toBeGreaterThanOrEqual(3);
  } finally {
    await thread.close();
  }
});

/**
 * Task heartbeats of a Flower 1.42 Runtime API from the worker thread (`service: "runtime"`):
 * SendTaskHeartbeat with the task token reaches a real local HTTP server
 * (`test/superlink-runtime-server.ts`) while the main thread is blocked (a synchronous ServerApp),
 * and a revoked token (401, a stopped run) or `success=false` is reported as lost.
 */
import { afterEach, expect, test } from "vitest";
import {
  type SuperLinkRuntime,
  startSuperLinkRuntime,
} from "../../test/superlink-runtime-server.js";
import { AppHeartbeatThread } from "./heartbeat-thread.js";

const TOKEN = "tok-beat";
let server: SuperLinkRuntime | undefined;
let thread: AppHeartbeatThread | undefined;

afterEach(async () => {
  await thread?.close();
  await server?.close();
  thread = undefined;
  server = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const eventually = async (check: () => boolean, ms = 5_000) => {
  const until = Date.now() + ms;
  while (!check() && Date.now() < until) await sleep(20);
  return check();
};
const beats = (s: SuperLinkRuntime) =>
  s.calls.filter((c) => c.path === "/v1/runtime/send-task-heartbeat" && c.token === TOKEN).length;

test("task heartbeats keep going while the main thread is blocked", async () => {
  server = await startSuperLinkRuntime({ token: TOKEN, runId: 1n });
  thread = new AppHeartbeatThread({
    service: "runtime",
    address: server.address,
    insecure: true,
    intervalMs: 100,
  });
  await thread.ready;
  thread.beat(TOKEN, false);
  await sleep(50);
  const until = Date.now() + 1500;
  while (Date.now() < until) {
    // a synchronous ServerApp: nothing else runs on this thread
  }
  await sleep(500); // the server (on this thread) handles what arrived meanwhile
  expect(beats(server)).toBeGreaterThanOrEqual(8);
});

test("a revoked token and success=false are reported as a lost task", async () => {
  server = await startSuperLinkRuntime({ token: TOKEN, runId: 1n });
  const lost: string[] = [];
  thread = new AppHeartbeatThread({
    service: "runtime",
    address: server.address,
    insecure: true,
    intervalMs: 50,
    onLost: (token) => lost.push(token),
  });
  await thread.ready;
  thread.beat(TOKEN, true);
  const s = server;
  expect(await eventually(() => beats(s) >= 3)).toBe(true);
  expect(lost).toEqual([]);
  server.revoke();
  expect(await eventually(() => lost.length > 0)).toBe(true);
  expect(lost[0]).toBe(TOKEN);

  const second = await startSuperLinkRuntime({ token: TOKEN, runId: 2n, heartbeatSuccess: false });
  const lostToo: string[] = [];
  const other = new AppHeartbeatThread({
    service: "runtime",
    address: second.address,
    insecure: true,
    intervalMs: 50,
    onLost: (token) => lostToo.push(token),
  });
  try {
    await other.ready;
    other.beat(TOKEN, true);
    expect(await eventually(() => lostToo.length > 0)).toBe(true);
    expect(lostToo[0]).toBe(TOKEN);
  } finally {
    await other.close();
    await second.close();
  }
});

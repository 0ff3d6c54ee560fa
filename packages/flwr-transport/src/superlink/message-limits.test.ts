/**
 * gRPC message-size limits on a SuperLink's servers (`grpc/message-limits.ts`): a request above
 * `grpcMessageLimits.maxReceiveBytes` is answered RESOURCE_EXHAUSTED before any handler runs (on
 * Fleet, Control and ServerAppIo alike); one below it reaches the handler; Flower's default
 * (2,147,483,647 bytes) applies when nothing is configured.
 */
import {
  ControlDefinition,
  FleetDefinition,
  PushObjectRequest,
  ServerAppIoDefinition,
  StartRunRequest,
} from "@flwr-ts/core/proto";
import { status } from "@grpc/grpc-js";
import { afterEach, describe, expect, test } from "vitest";
import { createClient } from "../grpc/client.js";
import { FLOWER_MESSAGE_LIMITS, messageLengthFlag } from "../grpc/message-limits.js";
import { channelCredentials } from "../grpc/tls.js";
import { MemoryObjectStore } from "../object-store/memory-object-store.js";
import { MemoryLinkState } from "./state/memory-link-state.js";
import { SuperLink } from "./superlink.js";

let superlink: SuperLink | undefined;
const clients: { close(): void }[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await superlink?.stop(0);
  superlink = undefined;
});

async function start(limits?: { maxReceiveBytes: number; maxSendBytes: number }) {
  superlink = new SuperLink({
    state: new MemoryLinkState(),
    store: new MemoryObjectStore(),
    fleetAddress: "127.0.0.1:0",
    controlAddress: "127.0.0.1:0",
    serverAppIoAddress: "127.0.0.1:0",
    enableSupernodeAuth: false,
    grpcMessageLimits: limits,
  });
  const ports = await superlink.start();
  const creds = channelCredentials({ insecure: true });
  const control = createClient(ControlDefinition, `127.0.0.1:${ports.controlPort}`, creds);
  const fleet = createClient(FleetDefinition, `127.0.0.1:${ports.fleetPort}`, creds);
  const appIo = createClient(ServerAppIoDefinition, `127.0.0.1:${ports.serverAppIoPort}`, creds);
  clients.push(control, fleet, appIo);
  return { control, fleet, appIo };
}

/** The status code a failed call ends with (or "ok"). */
async function codeOf(call: Promise<unknown>): Promise<number | "ok"> {
  try {
    await call;
    return "ok";
  } catch (error) {
    return (error as { code: number }).code;
  }
}

const bytes = (n: number) => Buffer.alloc(n, 7);
const push = (content: Buffer) =>
  PushObjectRequest.fromPartial({ runId: 1n, objectId: "x", objectContent: content });

describe("gRPC message-size limits", () => {
  test("a request above the limit is answered RESOURCE_EXHAUSTED on every server", async () => {
    const { control, fleet, appIo } = await start({ maxReceiveBytes: 4096, maxSendBytes: 4096 });
    const big = bytes(8192);
    expect(
      await codeOf(control.startRun(StartRunRequest.fromPartial({ fab: { content: big } }))),
    ).toBe(status.RESOURCE_EXHAUSTED);
    expect(await codeOf(fleet.pushObject(push(big)))).toBe(status.RESOURCE_EXHAUSTED);
    expect(await codeOf(appIo.pushObject(push(big)))).toBe(status.RESOURCE_EXHAUSTED);
    // Below the limit the handler answers (whatever it answers, not RESOURCE_EXHAUSTED).
    const small = bytes(1024);
    expect(await codeOf(fleet.pushObject(push(small)))).not.toBe(status.RESOURCE_EXHAUSTED);
  });

  test("Flower's default limit lets the same request through", async () => {
    const { fleet } = await start();
    expect(await codeOf(fleet.pushObject(push(bytes(8192))))).not.toBe(status.RESOURCE_EXHAUSTED);
    expect(FLOWER_MESSAGE_LIMITS.maxReceiveBytes).toBe(2_147_483_647);
  });

  test("the flag accepts 1..2147483647 bytes and says what to fix otherwise", () => {
    expect(messageLengthFlag.parse("536870912")).toBe(536_870_912);
    for (const bad of ["0", "2147483648", "1.5", "512MiB", "-1"]) {
      const r = messageLengthFlag.safeParse(bad);
      expect(r.success).toBe(false);
      expect(r.error?.issues[0]?.message).toMatch(/bytes/);
    }
  });
});
